/**
 * The console (`regcred ui`) in real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core) against the real control plane, with regcred's webhooks registered: create a
 * secret through the form with "export to all namespaces" switched on, find it in the Secrets list
 * with its status, open its page, unexport it. A screenshot is kept in test-results/console.png.
 *
 * The browser only ever loads http://127.0.0.1:<port> (background networking, component updates,
 * sync and QUIC are off): nothing leaves this machine.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { EXPORT_PLURAL, GROUP, VERSION } from "../../src/api/names.js";
import { isReady, type PullSecretExport } from "../../src/api/types.js";
import { clientsFor, createNamespace, eventually, getExport, readSecret, sourceSecret, dockerConfigJson, uniqueName, type Clients } from "../harness/fixtures.js";
import { adminKubeConfig, startTestRegcred, unregisterWebhooks, type TestRegcred } from "../harness/regcred.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SOURCE_NS = "registry-creds";
const PASSWORD = "console-Pa55word-never-sent-back-91c";
const SCREENSHOT = join(ROOT, "test-results", "console.png");

let admin: KubeConfig;
let c: Clients;
let regcred: TestRegcred;
let ui: ChildProcessWithoutNullStreams;
let url: string;
let origin: string;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
/** Every response body the browser received from the console. */
const bodies: string[] = [];

async function startUi(): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "ui", "--kubeconfig", inject("kubeconfigPath")], {
    cwd: ROOT, env: { ...process.env, KUBECONFIG: "/nonexistent" }, stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => { err += d.toString(); });
  const printed = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => { fail(new Error(`regcred ui printed no URL in 30 s; stderr: ${err}`)); }, 30_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /regcred console: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)\n/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.once("exit", (code) => { fail(new Error(`regcred ui exited ${code ?? "?"}: ${err}`)); });
  });
  return { child, url: printed };
}

/** A raw request to the console, with headers a browser would not let a page choose (Host). */
function raw(path: string, headers: Record<string, string>, method = "GET", body?: string): Promise<{ status: number; body: string }> {
  const target = new URL(path, origin);
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port: Number(target.port), path: target.pathname + target.search, method, headers }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => { text += d.toString(); });
      res.on("end", () => { ok({ status: res.statusCode ?? 0, body: text }); });
    });
    req.on("error", fail);
    req.end(body);
  });
}

beforeAll(async () => {
  admin = adminKubeConfig(inject("kubeconfigPath"));
  c = clientsFor(admin);
  regcred = await startTestRegcred(admin);
  await createNamespace(c, SOURCE_NS).catch(() => undefined);
  await eventually("regcred to lead the controller", () => Promise.resolve(regcred.isLeader() ? true : undefined), 40_000);
  ({ child: ui, url } = await startUi());
  origin = new URL(url).origin;
  userDataDir = mkdtempSync(join(tmpdir(), "regcred-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1200, height: 640 },
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on("response", (res) => {
    if (!res.url().startsWith(origin)) return;
    res.text().then((t) => { bodies.push(t); }, () => undefined);
  });
});

afterAll(async () => {
  // Other test files share this control plane: leave no export behind.
  const exports = await c.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: SOURCE_NS, plural: EXPORT_PLURAL }) as { items: PullSecretExport[] };
  for (const exp of exports.items.filter((e) => (e.metadata.name ?? "").startsWith("ui-"))) {
    await c.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: SOURCE_NS, plural: EXPORT_PLURAL, name: exp.metadata.name ?? "" }).catch(() => undefined);
  }
  await context.close().catch(() => undefined);
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  ui.kill("SIGTERM");
  await unregisterWebhooks(admin);
  await (regcred as TestRegcred | undefined)?.stop();
});

describe("the console in headless Chromium", () => {
  it("creates a secret through the form, exported to all namespaces, and lists it with its status", async () => {
    const name = uniqueName("ui-creds");
    const registry = `${name}.example.com`;
    await page.goto(url);
    // The token is traded for a cookie and leaves the address bar.
    expect(page.url()).toBe(`${origin}/`);
    await page.getByRole("heading", { name: "Secrets" }).waitFor();

    await page.getByRole("link", { name: "Create secret" }).first().click();
    await page.getByLabel("Namespace", { exact: true }).fill(SOURCE_NS);
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByLabel("Registry URL", { exact: true }).fill(`https://${registry}`);
    await page.getByLabel("Username", { exact: true }).fill("robot$puller");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    const exportSwitch = page.getByRole("switch", { name: "Export to all namespaces" });
    await exportSwitch.check();
    expect(await exportSwitch.isChecked()).toBe(true);
    await page.getByRole("button", { name: "Create secret" }).click();

    await page.getByRole("heading", { name: "Secrets" }).waitFor();
    await expect.poll(() => page.locator("#flash").innerText()).toContain(`secret/${name} created`);
    expect(await page.locator("#flash").innerText()).toContain(`pullsecretexport.regcred.dev/${name} created`);

    const row = page.locator(`tr[data-secret="${SOURCE_NS}/${name}"]`);
    await row.waitFor();
    await expect.poll(() => row.locator('[data-col="ready"]').innerText(), { timeout: 30_000, interval: 500 }).toBe("Ready");
    expect(await row.locator("td").nth(2).innerText()).toBe(registry);
    expect(await row.locator('[data-col="scope"]').innerText()).toBe("*");
    // DeclaredOnly in these tests, and nothing declared: regcred could not verify read-only access.
    expect(await row.locator('[data-col="access"]').innerText()).toBe("Unknown");
    expect(await row.locator('[data-col="copies"]').innerText()).toBe("0");

    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: false });

    // What the cluster holds: the source secret and its export, made with the user's credentials.
    const secret = await readSecret(c, SOURCE_NS, name);
    const config = JSON.parse(Buffer.from(secret?.data?.[".dockerconfigjson"] ?? "", "base64").toString()) as { auths: Record<string, { username: string; password: string }> };
    expect(config.auths[registry]).toMatchObject({ username: "robot$puller", password: PASSWORD });
    const exp = await getExport(c, SOURCE_NS, name);
    expect(exp.spec?.toNamespaces).toEqual(["*"]);
    expect(isReady(exp)).toBe(true);
    // The field is emptied once the secret is made.
    await page.getByRole("link", { name: "Create secret" }).first().click();
    expect(await page.getByLabel("Password", { exact: true }).inputValue()).toBe("");
  });

  it("shows a secret's page with its export, copies and events, and unexports it", async () => {
    const name = uniqueName("ui-page");
    await c.core.createNamespacedSecret({ namespace: SOURCE_NS, body: sourceSecret(SOURCE_NS, name, dockerConfigJson({ [`${name}.example.com`]: { username: "u", password: PASSWORD } }), { "regcred.dev/access": "read-only" }) });
    await page.goto(`${origin}/#/`);
    await page.locator(`tr[data-secret="${SOURCE_NS}/${name}"]`).getByRole("link", { name }).click();
    await page.getByRole("heading", { name: `${SOURCE_NS}/${name}` }).waitFor();
    await page.getByText("not exported").waitFor();
    await page.getByRole("button", { name: "Export to all namespaces" }).click();
    await page.getByRole("button", { name: "Unexport" }).waitFor({ timeout: 15_000 });
    await eventually("the export to be Ready", async () => (isReady(await getExport(c, SOURCE_NS, name)) ? true : undefined));
    await expect.poll(() => page.locator("dl.facts").innerText(), { timeout: 15_000 }).toContain("ReadOnly");
    await page.getByRole("heading", { name: "Namespaces holding copies" }).waitFor();
    await page.getByRole("heading", { name: "Recent events" }).waitFor();
    await expect.poll(() => page.locator("main").innerText(), { timeout: 15_000 }).toContain("Distributing");

    page.once("dialog", (d) => { void d.accept(); });
    await page.getByRole("button", { name: "Unexport" }).click();
    await expect.poll(() => page.locator("#flash").innerText()).toContain(`pullsecretexport.regcred.dev/${name} deleted`);
    await eventually("the export to be gone", async () => {
      try {
        await getExport(c, SOURCE_NS, name);
        return undefined;
      } catch {
        return true;
      }
    });
  });

  it("shows the API server's error as it gave it", async () => {
    const ns = uniqueName("ui-nowhere");
    await page.goto(`${origin}/#/create`);
    await page.getByLabel("Namespace", { exact: true }).fill(ns);
    await page.getByLabel("Name", { exact: true }).fill("x");
    await page.getByLabel("Registry URL", { exact: true }).fill("r.example.com");
    await page.getByLabel("Username", { exact: true }).fill("u");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create secret" }).click();
    await expect.poll(() => page.getByRole("alert").innerText()).toBe(`Error from server (NotFound, HTTP 404): namespaces "${ns}" not found`);

    await page.getByLabel("Namespace", { exact: true }).fill(SOURCE_NS);
    await page.getByLabel("Registry URL", { exact: true }).fill("ftp://r.example.com");
    await page.getByRole("button", { name: "Create secret" }).click();
    await expect.poll(() => page.getByRole("alert").innerText()).toContain("the scheme must be https://");
  });

  it("renders what the cluster holds as text, never as markup", async () => {
    const name = uniqueName("ui-xss");
    const hostile = `<img src=x id=pwned onerror="document.title='pwned'">`;
    await c.core.createNamespacedSecret({ namespace: SOURCE_NS, body: sourceSecret(SOURCE_NS, name, dockerConfigJson({ [`${name}.example.com`]: { username: "u", password: PASSWORD } }), { "regcred.dev/access": hostile }) });
    await page.goto(`${origin}/#/secret/${SOURCE_NS}/${name}`);
    await page.getByText(hostile).waitFor();
    expect(await page.locator("#pwned").count()).toBe(0);
    expect(await page.title()).toBe("regcred console");
  });

  it("refuses requests without this run's token, from another origin, or for another host", async () => {
    const cookie = (await context.cookies(origin)).map((k) => `${k.name}=${k.value}`).join("; ");
    const token = new URL(url).searchParams.get("token") ?? "";
    const host = new URL(origin).host;
    expect((await raw("/api/secrets", { host, cookie, "x-regcred-token": token })).status).toBe(200);
    expect((await raw("/api/secrets", { host, cookie })).status).toBe(403);
    expect((await raw("/api/secrets", { host, "x-regcred-token": token })).status).toBe(403);
    expect((await raw("/api/secrets", { host, cookie, "x-regcred-token": token, origin: "http://evil.example" })).status).toBe(403);
    expect((await raw("/api/secrets", { host, cookie, "x-regcred-token": token, "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await raw("/api/secrets", { host: `rebound.example:${new URL(origin).port}`, cookie, "x-regcred-token": token })).status).toBe(421);
    const form = "namespace=registry-creds&name=x&server=r.example.com&username=u&password=p";
    expect((await raw("/api/secrets", { host, cookie, "x-regcred-token": token, "content-type": "application/x-www-form-urlencoded" }, "POST", form)).status).toBe(403);
    expect((await raw("/?token=wrong", { host })).status).toBe(403);
    expect((await raw("/", { host })).status).toBe(401);
    const page200 = await raw("/", { host, cookie });
    expect(page200.status).toBe(200);
    expect(page200.body).toContain("<title>regcred console</title>");
  });

  afterAll(() => {
    // The browser never got the password back, in any form, in any response.
    expect(bodies.length).toBeGreaterThan(5);
    const all = bodies.join("\n");
    for (const form of [PASSWORD, Buffer.from(PASSWORD).toString("base64"), Buffer.from(`robot$puller:${PASSWORD}`).toString("base64"), Buffer.from(`u:${PASSWORD}`).toString("base64")]) {
      expect(all).not.toContain(form);
    }
  });
});
