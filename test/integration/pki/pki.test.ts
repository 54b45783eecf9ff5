/**
 * PKI certificates from OpenBao's PKI engine, end to end with the built binary: one issue call
 * per certificate set (a write-style vault:// reference, src/sources/vault/write.ts), written by
 * templates as one file set (key 0400, owned by the app user), re-issued at two thirds of the
 * validity, the app signalled after each re-issue and never serving an expired certificate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:tls";
import { join } from "node:path";
import { latchkey, start } from "../../helpers/run.ts";
import { LATCHKEY } from "../../helpers/paths.ts";
import { lines, sleep, tempDir, waitFor } from "../../helpers/processes.ts";
import { baoBinary, startOpenBao, type OpenBao } from "../../servers/openbao.ts";
import { freePort } from "../../servers/ports.ts";

const PATH = process.env.PATH ?? "/usr/bin:/bin";
const bao = baoBinary();
const root = process.getuid?.() === 0;
const why = !bao ? "OpenBao is not installed (scripts/setup-system test, or LATCHKEY_BAO=path/to/bao)" : !root ? "--user needs root" : "";
if (why) console.log(`skipped: ${why}`);

let b: OpenBao;
let token = "";
let caPem = "";
beforeAll(async () => {
  if (why) return;
  b = await startOpenBao();
  await b.must("POST", "sys/mounts/pki", { type: "pki", config: { max_lease_ttl: "87600h" } });
  caPem = (await b.must("POST", "pki/root/generate/internal", { common_name: "latchkey test root", ttl: "87600h" }))!.data.certificate as string;
  await b.must("POST", "pki/roles/web", { allowed_domains: "example.test", allow_subdomains: true, max_ttl: "1h", key_type: "ec", key_bits: 256 });
  await b.policy("issue-web", 'path "pki/issue/web" { capabilities = ["update"] }');
  token = await b.token({ policies: ["issue-web"], ttl: "1h" });
}, 60_000);
afterAll(async () => {
  await b?.stop();
});

/** Three templates, one directory: certificate, key and chain switch together. */
function setup(ttl: string) {
  const d = tempDir();
  const ref = (key: string) => `vault://pki/issue/web?write&common_name=app.example.test&alt_names=www.example.test&ttl=${ttl}#${key}`;
  const tls = join(d, "tls");
  const tpl = (name: string, text: string) => {
    writeFileSync(join(d, name), text);
    return join(d, name);
  };
  const config = join(d, "latchkey.yaml");
  writeFileSync(config, [
    "sources:",
    `  TLS_CERT: "${ref("certificate")}"`,
    `  TLS_KEY: "${ref("private_key")}"`,
    `  TLS_CHAIN: "${ref("ca_chain")}"`,
    "templateOnly: [TLS_KEY]      # the key reaches its file only, not the app's environment",
    "templates:",
    `  - { source: ${tpl("crt.liquid", "{{ TLS_CERT }}\n")}, destination: ${tls}/tls.crt, mode: "0444", action: signal:HUP }`,
    `  - { source: ${tpl("key.liquid", "{{ TLS_KEY }}\n")}, destination: ${tls}/tls.key, action: signal:HUP }`,
    `  - { source: ${tpl("chain.liquid", "{{ TLS_CHAIN }}")}, destination: ${tls}/ca.crt, mode: "0444", action: signal:HUP }`,
    "",
  ].join("\n"));
  writeFileSync(join(d, "root.pem"), caPem);
  const notes = join(d, "notes");
  mkdirSync(notes);
  chmodSync(notes, 0o777);
  return { d, tls, config, out: join(notes, "out") };
}

const issues = () => b.count((e) => e.path === "pki/issue/web" && !e.admin && e.error === undefined);
const openssl = (...args: string[]) => spawnSync("openssl", args, { encoding: "utf8" });

describe.skipIf(why !== "")("PKI certificates from OpenBao (built binary)", () => {
  it("one issue call: certificate, key and chain as one file set, key 0400 owned by the app user; the chain verifies against the CA", async () => {
    const f = setup("10m");
    const before = issues();
    const r = await latchkey(["--config", f.config, "--user", "nobody", "--", "sh", "-c", `cat "$TLS_DIR/tls.key" > /dev/null && echo "read-as-app key-in-env:\${TLS_KEY:-no} cert-in-env:\${TLS_CERT:+yes}" > "$OUT"`],
      { env: { PATH, VAULT_ADDR: b.url, VAULT_TOKEN: token, TLS_DIR: f.tls, OUT: f.out } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(f.out, "utf8")).toBe("read-as-app key-in-env:no cert-in-env:yes\n");
    await sleep(100); // the audit log is written after the answer
    expect(issues() - before).toBe(1); // three references, one write
    const key = statSync(join(f.tls, "tls.key"));
    expect({ uid: key.uid, mode: (key.mode & 0o777).toString(8) }).toEqual({ uid: 65534, mode: "400" });
    const v = openssl("verify", "-CAfile", join(f.d, "root.pem"), "-untrusted", join(f.tls, "ca.crt"), join(f.tls, "tls.crt"));
    expect(v.stdout.trim()).toBe(`${join(f.tls, "tls.crt")}: OK`);
    // The key is the certificate's: same public key.
    const certPub = openssl("x509", "-noout", "-pubkey", "-in", join(f.tls, "tls.crt")).stdout;
    const keyPub = openssl("pkey", "-pubout", "-in", join(f.tls, "tls.key")).stdout;
    expect(certPub).not.toBe("");
    expect(keyPub).toBe(certPub);
    expect(openssl("x509", "-noout", "-ext", "subjectAltName", "-in", join(f.tls, "tls.crt")).stdout).toMatch(/DNS:www\.example\.test/);
  });

  it("a 30 s certificate is re-issued at two thirds of its validity, the app is signalled each time and never serves an expired one (bounded: 70 s)", async () => {
    const f = setup("30s");
    const port = await freePort();
    const server = join(f.d, "server.py");
    writeFileSync(server, `
import os, signal, socket, ssl, sys
d, port = sys.argv[1], int(sys.argv[2])
ctx = [None]
def load(*_):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(d + "/tls.crt", d + "/tls.key")
    ctx[0] = c
    with open(os.environ["OUT"], "a") as f:
        f.write("loaded\\n")
load()
signal.signal(signal.SIGHUP, load)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
while True:
    conn, _ = s.accept()
    try:
        t = ctx[0].wrap_socket(conn, server_side=True)
        t.sendall(b"ok")
        t.close()
    except Exception:
        conn.close()
`);
    chmodSync(server, 0o644);
    const before = issues();
    const run = start(LATCHKEY, ["--log-level", "info", "--config", f.config, "--user", "nobody", "--debounce", "100ms", "--", "python3", server, f.tls, String(port)],
      { env: { PATH, VAULT_ADDR: b.url, VAULT_TOKEN: token, OUT: f.out }, timeoutMs: 100_000 });
    const served: { at: number; serial: string; validTo: number }[] = [];
    try {
      await waitFor(() => lines(f.out).length >= 1, "the server's first load", 20_000);
      const end = Date.now() + 70_000;
      while (Date.now() < end) {
        served.push(await probe(port));
        await sleep(1000);
      }
    } finally {
      run.proc.kill("SIGTERM");
    }
    const r = await run.done;
    const serials = [...new Set(served.map((s) => s.serial))];
    const expired = served.filter((s) => s.validTo <= s.at);
    console.log(`70 s: ${served.length} TLS probes, ${serials.length} certificates served, ${expired.length} expired, ${lines(f.out).length - 1} reloads, ${issues() - before} issue calls`);
    expect(expired, "a probe got an expired certificate").toEqual([]);
    // 30 s certificates re-issued at ~20 s: 4 in 70 s (3 at least on a slow machine).
    expect(serials.length).toBeGreaterThanOrEqual(3);
    expect(lines(f.out).length - 1).toBe(serials.length - 1); // one reload per re-issue
    expect(issues() - before).toBe(serials.length); // one call per certificate
    expect(r.stderr.match(/secrets changed; signalled the app .*signal=SIGHUP delivered=true/g)?.length).toBe(serials.length - 1);
    expect(r.stderr).not.toMatch(/BEGIN|PRIVATE KEY/);
  }, 100_000);
});

/** The certificate the app serves now: serial and notAfter. */
function probe(port: number): Promise<{ at: number; serial: string; validTo: number }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "app.example.test" }, () => {
      const c = s.getPeerCertificate();
      resolve({ at: Date.now(), serial: c.serialNumber, validTo: Date.parse(c.valid_to) });
      s.destroy();
    });
    s.on("error", reject);
    s.setTimeout(5000, () => s.destroy(new Error("TLS probe timed out")));
  });
}
