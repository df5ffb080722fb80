/**
 * The changes made for the benchmark (issue 7) keep behaviour: pods see the same decisions with
 * copy states looked up only for matching exports, parse caches hand out copies, and one KubeConfig
 * gives its API requests one shared connection pool.
 */
import { describe, expect, it } from "vitest";
import { CoreV1Api, KubeConfig, RequestContext, HttpMethod } from "@kubernetes/client-node";
import { injectionPolicy } from "../../src/admission/eligibility.js";
import { encodePatch } from "../../src/admission/patch.js";
import { decidePod, exportKey, exportsForPod, type CopyState } from "../../src/admission/pods.js";
import { shareConnections } from "../../src/cluster/kube.js";
import { parseImageReference } from "../../src/registry/imageRef.js";
import { registryKeyMatchesImage } from "../../src/registry/keyring.js";
import { distributable, optedIn, pod } from "./fixtures.js";

const policy = injectionPolicy("optIn", "regcred-system", []);

describe("exportsForPod", () => {
  const exports = [
    distributable("registry-creds", "b", { toNamespaces: ["*"] }, ["b.example.com"]),
    distributable("registry-creds", "a", { toNamespaces: ["*"] }, ["a.example.com"]),
    distributable("registry-creds", "other-ns", { toNamespaces: ["elsewhere"] }, ["a.example.com"]),
    distributable("registry-creds", "c", { toNamespaces: ["*"] }, ["c.example.com"]),
    distributable("team", "own", { toNamespaces: ["*"] }, ["a.example.com"]),
  ];
  const states = new Map<string, CopyState>([["registry-creds/a", "current"], ["registry-creds/b", "stale"], ["registry-creds/c", "missing"]]);

  it("keeps only eligible exports with a key for one of the pod's images", () => {
    const p = pod({ containers: ["a.example.com/app:1"], initContainers: ["b.example.com/tool:2"] });
    expect(exportsForPod(p, optedIn("team"), policy, exports).map(exportKey)).toEqual(["registry-creds/b", "registry-creds/a", "team/own"]);
  });

  it("decidePod decides the same on them as on every export", () => {
    for (const images of [["a.example.com/app:1"], ["b.example.com/x", "c.example.com/y"], ["nginx"], ["a.example.com/a", "b.example.com/b", "c.example.com/c"]]) {
      for (const ns of [optedIn("team"), optedIn("elsewhere"), optedIn("kube-system")]) {
        const p = pod({ containers: images }, { imagePullSecrets: [{ name: "mine" }] });
        const all = decidePod({ pod: p, namespace: ns, policy, exports, copyStates: states, dryRun: false });
        const some = exportsForPod(p, ns, policy, exports);
        const only = new Map([...states].filter(([key]) => some.some((e) => exportKey(e) === key)));
        expect(decidePod({ pod: p, namespace: ns, policy, exports: some, copyStates: only, dryRun: false })).toEqual(all);
      }
    }
  });

  it("finds, through its index of hosts, exactly the exports whose keys match, among many", () => {
    // Keys of every shape the index sorts by: exact hosts, ports, `*` globs, Docker Hub's spellings,
    // paths, schemes, upper case, and one that is no registry at all.
    const keys = ["a.example.com", "A.Example.com:5000", "*.example.com", "docker.io", "https://index.docker.io/v1/",
      "index.docker.io/library", "quay.io/team", "https://quay.io", "*.*.example.org", "b.example.org", "not a registry", "[::1]:5000"];
    const many = Array.from({ length: 60 }, (_, i) => distributable("registry-creds", `e${String(i).padStart(2, "0")}`, { toNamespaces: ["*"] },
      [keys[i % keys.length] as string, ...(i % 5 === 0 ? [keys[(i * 7) % keys.length] as string] : [])]));
    const images = ["a.example.com/app", "a.example.com:5000/app", "x.example.com/app", "nginx", "library/nginx", "quay.io/team/app",
      "quay.io/other/app", "a.b.example.org/app", "b.example.org/app", "[::1]:5000/app", "c.example.net/app", "docker.io/team/app"];
    for (const image of images) {
      const p = pod({ containers: [image] });
      const ref = parseImageReference(image);
      const expected = many.filter((e) => e.registryKeys.some((key) => registryKeyMatchesImage(key, ref))).map(exportKey);
      expect(exportsForPod(p, optedIn("team"), policy, many).map(exportKey), image).toEqual(expected);
    }
    expect(exportsForPod(pod({ containers: ["c.example.net/app"] }), optedIn("team"), policy, many)).toEqual([]);
  });

  it("is empty for a skipped pod or a namespace that did not opt in", () => {
    expect(exportsForPod(pod({ containers: ["a.example.com/app"] }, { annotations: { "regcred.dev/skip": "true" } }), optedIn("team"), policy, exports)).toEqual([]);
    expect(exportsForPod(pod({ containers: ["a.example.com/app"] }), { name: "team", labels: {}, annotations: {} }, policy, exports)).toEqual([]);
  });
});

describe("encodePatch's cache", () => {
  it("gives each patch its own encoding, the same each time", () => {
    const decode = (b64: string): unknown => JSON.parse(Buffer.from(b64, "base64").toString("utf8"));
    const patches = Array.from({ length: 1100 }, (_, i) => [{ op: "add", path: "/spec/imagePullSecrets", value: [{ name: `regcred.ns.e${i}` }] }]);
    // More patches than the cache holds, twice over: it empties itself and keeps answering right.
    for (const round of [1, 2]) {
      for (const patch of patches) expect(decode(encodePatch(patch)), `round ${round}`).toEqual(patch);
    }
  });
});

describe("parse caches", () => {
  it("hand out a fresh copy of a remembered image reference", () => {
    const first = parseImageReference("Quay.IO/team/app:1.0");
    first.registry = "changed";
    expect(parseImageReference("Quay.IO/team/app:1.0")).toEqual({ registry: "quay.io", repository: "team/app", tag: "1.0" });
  });

  it("still throw for an invalid reference every time", () => {
    expect(() => parseImageReference("UPPER/Case")).toThrow();
    expect(() => parseImageReference("UPPER/Case")).toThrow();
  });

  it("match registry keys as before, again and again", () => {
    const image = parseImageReference("a.b.example.com:5000/team-a/app");
    for (let i = 0; i < 3; i++) {
      expect(registryKeyMatchesImage("*.b.example.com:5000/team-a", image)).toBe(true);
      expect(registryKeyMatchesImage("*.b.example.com:5000/team-ab", image)).toBe(false);
      expect(registryKeyMatchesImage("https://a.b.example.com:5000/v2/", image)).toBe(true);
    }
  });
});

describe("shareConnections", () => {
  function kubeConfig(token: string): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: "https://127.0.0.1:6443", caData: Buffer.from("not a real CA").toString("base64"), skipTLSVerify: false }],
      users: [{ name: "u", token }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    return kc;
  }

  async function dispatcherOf(kc: KubeConfig): Promise<unknown> {
    const context = new RequestContext("https://127.0.0.1:6443/api/v1/namespaces", HttpMethod.GET);
    await kc.applySecurityAuthentication(context);
    return context.getDispatcher();
  }

  it("gives every request of one KubeConfig the same dispatcher, where the library makes a new one each time", async () => {
    const plain = kubeConfig("t");
    expect(await dispatcherOf(plain)).not.toBe(await dispatcherOf(plain));
    const shared = kubeConfig("t");
    shareConnections(shared);
    shareConnections(shared);
    const first = await dispatcherOf(shared);
    expect(first).toBeDefined();
    expect(await dispatcherOf(shared)).toBe(first);
    shared.makeApiClient(CoreV1Api);
  });

  it("keeps the bearer token per request, so a rotated token is still sent", async () => {
    const kc = kubeConfig("first");
    shareConnections(kc);
    const context = new RequestContext("https://127.0.0.1:6443/api", HttpMethod.GET);
    await kc.applySecurityAuthentication(context);
    expect(context.getHeaders().Authorization).toBe("Bearer first");
    const user = kc.getCurrentUser();
    if (user) (user as { token?: string }).token = "second";
    const next = new RequestContext("https://127.0.0.1:6443/api", HttpMethod.GET);
    await kc.applySecurityAuthentication(next);
    expect(next.getHeaders().Authorization).toBe("Bearer second");
  });
});
