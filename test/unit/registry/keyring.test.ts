import { describe, it, expect } from "vitest";
import { parseImageReference } from "../../../src/registry/imageRef.js";
import {
  matchingKeys,
  normalizeRegistryKey,
  registryKeyMatchesImage,
  registryKeysEqual,
} from "../../../src/registry/keyring.js";

const DIGEST = "sha256:" + "9f86d081884c7d65".repeat(4);

function matches(key: string, image: string): boolean {
  return registryKeyMatchesImage(key, parseImageReference(image));
}

describe("normalizeRegistryKey", () => {
  // Rule source: kubelet keyring.go BasicDockerKeyring.Add (scheme stripped, leading /v1/ or /v2/
  // dropped, trailing "/" dropped) and ParseSchemelessURL; Docker Hub aliases per SPEC.
  it.each([
    ["docker.io", "docker.io"],
    ["index.docker.io", "docker.io"],
    ["https://index.docker.io/v1/", "docker.io"],
    ["http://index.docker.io/v1/", "docker.io"],
    ["https://index.docker.io/v2/", "docker.io"],
    ["https://docker.io", "docker.io"],
    ["index.docker.io/library", "docker.io/library"],
    ["registry.example.com", "registry.example.com"],
    ["registry.example.com/", "registry.example.com"],
    ["https://registry.example.com/v2/", "registry.example.com"],
    ["https://quay.io/v1/", "quay.io"],
    ["HTTPS://Harbor.Example.COM:8443/", "harbor.example.com:8443"],
    ["registry.example.com/team-a/", "registry.example.com/team-a"],
    ["registry.example.com/v2/team-a", "registry.example.com/team-a"],
    // A bare "v2" with no slash after it could be a repository, so it stays (as in the kubelet).
    ["registry.example.com/v2", "registry.example.com/v2"],
    ["*.example.com", "*.example.com"],
    ["http://[::1]:5000/x", "[::1]:5000/x"],
    ["  registry.example.com  ", "registry.example.com"],
    ["https://registry.example.com/v2/?x=1#frag", "registry.example.com"],
  ])("%s -> %s", (key, expected) => {
    expect(normalizeRegistryKey(key)).toBe(expected);
  });

  it("keeps an unreadable key comparable to itself", () => {
    expect(normalizeRegistryKey("Not A Host")).toBe("not a host");
    expect(normalizeRegistryKey("host:port")).toBe("host:port");
  });
});

describe("registryKeysEqual", () => {
  // Rule source: SPEC "Pod admission" step 2 (docker.io, index.docker.io and
  // https://index.docker.io/v1/ name the same registry); kubelet keyring.go Add.
  it.each([
    ["docker.io", "https://index.docker.io/v1/"],
    ["index.docker.io", "docker.io"],
    ["https://index.docker.io/v1/", "http://index.docker.io/v2/"],
    ["Registry.Example.com", "https://registry.example.com/"],
    ["quay.io", "https://quay.io/v1/"],
    ["registry.example.com/team-a/", "registry.example.com/team-a"],
  ])("%s == %s", (a, b) => {
    expect(registryKeysEqual(a, b)).toBe(true);
  });

  it.each([
    ["docker.io", "registry-1.docker.io"],
    ["registry.example.com", "registry.example.com:443"],
    ["registry.example.com/team-a", "registry.example.com"],
    ["registry.example.com/Team-A", "registry.example.com/team-a"],
    ["*.example.com", "a.example.com"],
  ])("%s != %s", (a, b) => {
    expect(registryKeysEqual(a, b)).toBe(false);
  });
});

describe("registryKeyMatchesImage: Docker Hub", () => {
  // Rule source: kubelet keyring.go isDefaultRegistryMatch and the index.docker.io fallback in
  // BasicDockerKeyring.Lookup; distribution normalize.go (images without a host are docker.io).
  it.each([
    ["https://index.docker.io/v1/", "nginx"],
    ["https://index.docker.io/v1/", "library/nginx:1.27"],
    ["https://index.docker.io/v1/", "docker.io/library/nginx"],
    ["https://index.docker.io/v1/", "index.docker.io/x/y"],
    ["docker.io", "nginx"],
    ["docker.io", "bitnami/redis"],
    ["index.docker.io", "docker.io/x/y"],
    ["docker.io/library", "nginx"],
    ["docker.io/x", "index.docker.io/x/y"],
  ])("%s matches %s", (key, image) => {
    expect(matches(key, image)).toBe(true);
  });

  it.each([
    ["https://index.docker.io/v1/", "quay.io/x/y"],
    ["https://index.docker.io/v1/", "localhost:5000/app"],
    ["docker.io", "registry.example.com:5000/team/app"],
    ["docker.io/library", "bitnami/redis"],
    ["registry-1.docker.io", "nginx"],
    // Labels are counted after normalization: docker.io has two, the glob three.
    ["*.docker.io", "nginx"],
    ["docker.io:443", "nginx"],
  ])("%s does not match %s", (key, image) => {
    expect(matches(key, image)).toBe(false);
  });
});

describe("registryKeyMatchesImage: host wildcards", () => {
  // Rule source: kubelet keyring.go URLsMatch and SplitURL (equal number of labels, each label a
  // filepath.Match glob, so "*" never spans a ".").
  it.each([
    ["*.example.com", "a.example.com/x"],
    ["*.example.com", "A.Example.com/x"],
    ["*.example.com", "registry-1.example.com/team/app:v1"],
    ["a.*.com", "a.example.com/x"],
    ["a.example.*", "a.example.com/x"],
    ["*.*.com", "a.example.com/x"],
    ["*-docker.pkg.dev", "europe-docker.pkg.dev/p/r/img"],
    ["reg*.example.com", "registry.example.com/x"],
    ["*.example.com:5000", "a.example.com:5000/x"],
    ["*.example.com/team", "a.example.com/team/app"],
    ["*", "localhost/app"],
  ])("%s matches %s", (key, image) => {
    expect(matches(key, image)).toBe(true);
  });

  it.each([
    ["*.example.com", "a.b.example.com/x"],
    ["*.example.com", "example.com/x"],
    ["*.*.example.com", "a.example.com/x"],
    ["*.example.com", "a.example.org/x"],
    ["*-docker.pkg.dev", "europe.pkg.dev/p/r/img"],
    ["k*.io", "quay.io/x"],
    ["*.example.com", "a.example.com:5000/x"],
    ["*.example.com:5000", "a.example.com/x"],
    ["*.example.com/team", "a.example.com/other/app"],
    ["*", "a.example.com/x"],
  ])("%s does not match %s", (key, image) => {
    expect(matches(key, image)).toBe(false);
  });
});

describe("registryKeyMatchesImage: hosts and ports", () => {
  // Rule source: kubelet keyring.go URLsMatch (ports compared as strings, absent port only
  // matches absent port) and ParseSchemelessURL; host case-insensitive per DNS.
  it.each([
    ["registry.example.com:5000", `registry.example.com:5000/team/app@${DIGEST}`],
    ["https://registry.example.com:5000/v2/", "registry.example.com:5000/team/app"],
    ["localhost:5000", "localhost:5000/app"],
    ["http://localhost:5000", "localhost:5000/app"],
    ["harbor.example.com", "Harbor.Example.com/x/y"],
    ["HARBOR.example.COM", "harbor.example.com/x/y"],
    ["https://Harbor.Example.com/v2/", "Harbor.Example.com/x/y"],
    ["localhost", "localhost/app"],
    ["[::1]:5000", "[::1]:5000/app"],
    ["10.0.0.1:5000", "10.0.0.1:5000/app"],
  ])("%s matches %s", (key, image) => {
    expect(matches(key, image)).toBe(true);
  });

  it.each([
    // A key with a port does not match an image without one, and the reverse.
    ["registry.example.com:5000", "registry.example.com/team/app"],
    ["registry.example.com", `registry.example.com:5000/team/app@${DIGEST}`],
    ["registry.example.com:5001", "registry.example.com:5000/team/app"],
    ["registry.example.com:443", "registry.example.com/team/app"],
    ["localhost", "localhost:5000/app"],
    ["localhost:5000", "localhost/app"],
    ["example.com", "registry.example.com/x"],
    ["registry.example.com", "example.com/x"],
    ["registry.example.com", "registry.example.com.evil.io/x"],
    ["[::1]", "[::1]:5000/app"],
  ])("%s does not match %s", (key, image) => {
    expect(matches(key, image)).toBe(false);
  });
});

describe("registryKeyMatchesImage: path prefixes", () => {
  // Rule source: kubelet keyring.go URLsMatch ("the path of the credential must be a prefix"),
  // tightened to whole path components (the kubelet's string prefix would let team-a match team-ab).
  it.each([
    ["registry.example.com/team-a", "registry.example.com/team-a/app"],
    ["registry.example.com/team-a/", "registry.example.com/team-a/app:v1"],
    ["registry.example.com/team-a", "registry.example.com/team-a/sub/app"],
    ["registry.example.com/team-a/app", "registry.example.com/team-a/app"],
    ["https://registry.example.com/v2/team-a", "registry.example.com/team-a/app"],
    ["registry.example.com", "registry.example.com/team-b/app"],
    ["registry.example.com:5000/team", `registry.example.com:5000/team/app@${DIGEST}`],
  ])("%s matches %s", (key, image) => {
    expect(matches(key, image)).toBe(true);
  });

  it.each([
    ["registry.example.com/team-a", "registry.example.com/team-b/app"],
    ["registry.example.com/team-a", "registry.example.com/team-ab/app"],
    ["registry.example.com/team-a", "registry.example.com/team/app"],
    ["registry.example.com/team-a/app", "registry.example.com/team-a"],
    ["registry.example.com/team-a/app", "registry.example.com/team-a/application"],
    ["registry.example.com/Team-A", "registry.example.com/team-a/app"],
    ["registry.example.com/team-a", "other.example.com/team-a/app"],
  ])("%s does not match %s", (key, image) => {
    expect(matches(key, image)).toBe(false);
  });
});

describe("registryKeyMatchesImage: unusable keys", () => {
  // Rule source: kubelet keyring.go Add logs and skips entries it cannot parse as URLs.
  it.each(["", "   ", "https://", "registry.example.com:abc", "user:pass@registry.example.com", "bad host", "a..b"])(
    "%j matches nothing",
    (key) => {
      expect(matches(key, "registry.example.com/x")).toBe(false);
      expect(matches(key, "nginx")).toBe(false);
    },
  );
});

describe("matchingKeys", () => {
  // Rule source: kubelet keyring.go BasicDockerKeyring.Add sorts the index in reverse string order
  // ("more specific paths are matched first") and Lookup walks it in that order.
  it("puts a longer path before its prefix and drops keys that do not match", () => {
    const keys = ["quay.io", "quay.io/coreos", "quay.io/other", "gcr.io", "quay.io/coreos/etcd"];
    expect(matchingKeys(keys, parseImageReference("quay.io/coreos/etcd:v3"))).toEqual([
      "quay.io/coreos/etcd",
      "quay.io/coreos",
      "quay.io",
    ]);
  });

  it("puts an exact host before a wildcard host", () => {
    const keys = ["*.example.com", "a.example.com", "a.*.com"];
    expect(matchingKeys(keys, parseImageReference("a.example.com/x"))).toEqual([
      "a.example.com",
      "a.*.com",
      "*.example.com",
    ]);
  });

  it("orders the spellings of Docker Hub with docker.io first, then input order", () => {
    const keys = ["https://index.docker.io/v1/", "quay.io", "docker.io", "index.docker.io", "docker.io/library"];
    expect(matchingKeys(keys, parseImageReference("nginx"))).toEqual([
      "docker.io/library",
      "docker.io",
      "https://index.docker.io/v1/",
      "index.docker.io",
    ]);
  });

  it("compares after normalization, returning keys as written", () => {
    const keys = ["https://Registry.Example.com/v2/", "registry.example.com/team-a/"];
    expect(matchingKeys(keys, parseImageReference("registry.example.com/team-a/app"))).toEqual([
      "registry.example.com/team-a/",
      "https://Registry.Example.com/v2/",
    ]);
  });

  it("returns nothing when no key matches, and for no keys", () => {
    expect(matchingKeys(["quay.io", "registry.example.com:5000"], parseImageReference("registry.example.com/x"))).toEqual([]);
    expect(matchingKeys([], parseImageReference("nginx"))).toEqual([]);
  });

  it("does not change its input", () => {
    const keys = ["quay.io", "quay.io/coreos"];
    matchingKeys(keys, parseImageReference("quay.io/coreos/etcd"));
    expect(keys).toEqual(["quay.io", "quay.io/coreos"]);
  });
});
