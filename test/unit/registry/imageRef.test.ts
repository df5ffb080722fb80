import { describe, it, expect } from "vitest";
import { ImageReferenceError, imageMatchTarget, parseImageReference } from "../../../src/registry/imageRef.js";
import type { ImageReference } from "../../../src/registry/imageRef.js";

// Own test digests: 64, 96 and 128 lowercase hex characters.
const SHA256 = "sha256:" + "0123456789abcdef".repeat(4);
const SHA384 = "sha384:" + "fedcba9876543210".repeat(6);
const SHA512 = "sha512:" + "a1b2c3d4e5f60789".repeat(8);

describe("parseImageReference: Docker Hub normalization", () => {
  // Rule source: distribution/reference normalize.go, splitDockerDomain and ParseNormalizedNamed
  // (defaultDomain "docker.io", legacyDefaultDomain "index.docker.io", officialRepoPrefix "library/").
  const cases: [string, ImageReference][] = [
    ["nginx", { registry: "docker.io", repository: "library/nginx" }],
    ["library/nginx:1.27", { registry: "docker.io", repository: "library/nginx", tag: "1.27" }],
    ["docker.io/library/nginx", { registry: "docker.io", repository: "library/nginx" }],
    ["docker.io/nginx", { registry: "docker.io", repository: "library/nginx" }],
    ["index.docker.io/x/y", { registry: "docker.io", repository: "x/y" }],
    ["index.docker.io/busybox:musl", { registry: "docker.io", repository: "library/busybox", tag: "musl" }],
    ["bitnami/redis:7.2", { registry: "docker.io", repository: "bitnami/redis", tag: "7.2" }],
    ["myorg/tools/kubectl", { registry: "docker.io", repository: "myorg/tools/kubectl" }],
    // A single component is always a Hub name, even one that looks like a host (distribution's FIXME).
    ["localhost", { registry: "docker.io", repository: "library/localhost" }],
    ["example.com", { registry: "docker.io", repository: "library/example.com" }],
    // With no "/", ":5000" is a tag, not a port.
    ["localhost:5000", { registry: "docker.io", repository: "library/localhost", tag: "5000" }],
    ["nginx:latest", { registry: "docker.io", repository: "library/nginx", tag: "latest" }],
  ];
  it.each(cases)("%s", (input, expected) => {
    expect(parseImageReference(input)).toEqual(expected);
  });
});

describe("parseImageReference: registry hosts", () => {
  // Rule source: distribution/reference normalize.go splitDockerDomain (a first component with
  // "." or ":", "localhost", or an uppercase letter is a domain) and regexp.go domainAndPort.
  const cases: [string, ImageReference][] = [
    [
      `registry.example.com:5000/team/app@${SHA256}`,
      { registry: "registry.example.com:5000", repository: "team/app", digest: SHA256 },
    ],
    ["localhost:5000/app", { registry: "localhost:5000", repository: "app" }],
    ["localhost/app:dev", { registry: "localhost", repository: "app", tag: "dev" }],
    ["Harbor.Example.com/x/y", { registry: "harbor.example.com", repository: "x/y" }],
    ["HARBOR.EXAMPLE.COM:8443/x/y:V1", { registry: "harbor.example.com:8443", repository: "x/y", tag: "V1" }],
    ["ghcr.io/org/app:v1.2.3", { registry: "ghcr.io", repository: "org/app", tag: "v1.2.3" }],
    ["quay.io/coreos/etcd", { registry: "quay.io", repository: "coreos/etcd" }],
    ["registry:5000/app", { registry: "registry:5000", repository: "app" }],
    ["10.0.0.1:5000/app", { registry: "10.0.0.1:5000", repository: "app" }],
    ["[::1]:5000/app:v1", { registry: "[::1]:5000", repository: "app", tag: "v1" }],
    ["[FD00::1]/app", { registry: "[fd00::1]", repository: "app" }],
    ["my-registry.internal.corp/a/b/c/d", { registry: "my-registry.internal.corp", repository: "a/b/c/d" }],
    // A first component with an uppercase letter cannot be a repository path, so it is a host.
    ["Registry/app", { registry: "registry", repository: "app" }],
    // Only docker.io gets "library/", never another registry.
    ["registry.example.com/app", { registry: "registry.example.com", repository: "app" }],
  ];
  it.each(cases)("%s", (input, expected) => {
    expect(parseImageReference(input)).toEqual(expected);
  });
});

describe("parseImageReference: tags and digests", () => {
  // Rule source: distribution/reference regexp.go (tag, digestPat) and the go-digest validation
  // that reference.Parse applies (known algorithms, fixed length, lowercase hex).
  const cases: [string, ImageReference][] = [
    [`nginx@${SHA256}`, { registry: "docker.io", repository: "library/nginx", digest: SHA256 }],
    [`nginx:1.27@${SHA256}`, { registry: "docker.io", repository: "library/nginx", tag: "1.27", digest: SHA256 }],
    [`quay.io/a/b@${SHA384}`, { registry: "quay.io", repository: "a/b", digest: SHA384 }],
    [`quay.io/a/b:x@${SHA512}`, { registry: "quay.io", repository: "a/b", tag: "x", digest: SHA512 }],
    ["nginx:_under", { registry: "docker.io", repository: "library/nginx", tag: "_under" }],
    ["nginx:1.27-alpine.3_x", { registry: "docker.io", repository: "library/nginx", tag: "1.27-alpine.3_x" }],
    [`nginx:${"t".repeat(128)}`, { registry: "docker.io", repository: "library/nginx", tag: "t".repeat(128) }],
    ["localhost:5000/app:5000", { registry: "localhost:5000", repository: "app", tag: "5000" }],
  ];
  it.each(cases)("%s", (input, expected) => {
    expect(parseImageReference(input)).toEqual(expected);
  });
});

describe("parseImageReference: path components", () => {
  // Rule source: distribution/reference regexp.go pathComponent (alphanumeric, separator = one
  // ".", one or two "_", or a run of "-").
  it.each(["a.b/c", "a/b__c", "a/b_c", "a/b---c", "a/b.c-d_e", "0/1"])("accepts %s", (input) => {
    expect(() => parseImageReference(input)).not.toThrow();
  });
});

describe("parseImageReference: invalid references", () => {
  // Rule source: distribution/reference regexp.go and normalize.go ParseNormalizedNamed errors.
  const invalid: [string, RegExp][] = [
    ["", /empty/],
    ["Harbor.Example.com/X/y", /must be lowercase/],
    ["docker.io/Library/nginx", /must be lowercase/],
    ["NGINX", /must be lowercase/],
    ["0123456789abcdef".repeat(4), /image ID/],
    ["a//b", /empty component/],
    ["/nginx", /empty component/],
    ["registry.example.com/", /empty component/],
    ["nginx/", /empty component/],
    ["a/b___c", /path component "b___c"/],
    ["a/b..c", /path component "b..c"/],
    ["a/-b", /path component "-b"/],
    ["a/b-", /path component "b-"/],
    ["a/.b", /path component ".b"/],
    ["nginx:", /tag ""/],
    ["nginx:-x", /tag "-x"/],
    ["nginx:.x", /tag ".x"/],
    ["nginx:a+b", /tag "a\+b"/],
    [`nginx:${"t".repeat(129)}`, /tag/],
    ["nginx:1:2", /path component|tag/],
    ["-bad.example.com/app", /registry host/],
    ["bad-.example.com/app", /registry host/],
    ["bad_host.example.com/app", /registry host/],
    ["registry.example.com:port/app", /registry host/],
    ["registry.example.com:/app", /registry host/],
    ["[::1/app", /registry host/],
    ["[::1]x:5000/app", /registry host/],
    ["nginx@", /digest/],
    ["nginx@sha256:abc", /digest/],
    [`nginx@sha256:${"a".repeat(63)}`, /digest/],
    [`nginx@sha256:${"a".repeat(65)}`, /exactly 64/],
    [`nginx@sha256:${"A".repeat(64)}`, /lowercase hex/],
    [`nginx@sha256:${"g".repeat(64)}`, /digest/],
    [`nginx@md5:${"a".repeat(32)}`, /not supported/],
    [`nginx@${SHA256}@${SHA256}`, /more than one "@"/],
    [" nginx", /path component/],
    ["nginx ", /tag|path component/],
    [`example.com/${"a".repeat(250)}`, /longer than 255/],
  ];
  it.each(invalid)("rejects %j", (input, message) => {
    expect(() => parseImageReference(input)).toThrow(ImageReferenceError);
    expect(() => parseImageReference(input)).toThrow(message);
  });

  it("throws an Error subclass that names the reference", () => {
    let caught: unknown;
    try {
      parseImageReference("Bad.Host/Path");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toBeInstanceOf(ImageReferenceError);
    const error = caught as ImageReferenceError;
    expect(error.name).toBe("ImageReferenceError");
    expect(error.reference).toBe("Bad.Host/Path");
    expect(error.message).toContain('"Bad.Host/Path"');
  });

  it("accepts a name of exactly 255 characters and rejects 256", () => {
    const host = "example.com";
    expect(() => parseImageReference(`${host}/${"a".repeat(255 - host.length - 1)}`)).not.toThrow();
    expect(() => parseImageReference(`${host}/${"a".repeat(256 - host.length - 1)}`)).toThrow(/longer than 255/);
  });

  it("shortens a huge reference in the message", () => {
    const huge = "A".repeat(10_000);
    expect(() => parseImageReference(huge)).toThrow(ImageReferenceError);
    try {
      parseImageReference(huge);
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(1000);
    }
  });
});

describe("imageMatchTarget", () => {
  // Rule source: the kubelet looks credentials up by the repository without tag or digest
  // (keyring.go Lookup is given the parsed repository name).
  it.each([
    ["nginx", "docker.io/library/nginx"],
    ["index.docker.io/x/y:1", "docker.io/x/y"],
    [`registry.example.com:5000/team/app@${SHA256}`, "registry.example.com:5000/team/app"],
    ["Harbor.Example.com/x/y:v1", "harbor.example.com/x/y"],
  ])("%s -> %s", (input, expected) => {
    expect(imageMatchTarget(parseImageReference(input))).toBe(expected);
  });
});
