/**
 * A throw-away PKI for TLS tests, made with the openssl CLI: a CA, a server certificate for
 * 127.0.0.1 / localhost / vault.test, a client certificate, and a second unrelated CA (to
 * prove that a wrong CA is refused).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pki {
  dir: string;
  caFile: string;
  otherCaFile: string;
  serverCert: string;
  serverKey: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** PEM contents, for the server. */
  pem: { ca: string; cert: string; key: string };
}

function ssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-pki-"));
  const ca = (name: string) => {
    ssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`], dir);
  };
  ca("ca");
  ca("other-ca");
  const leaf = (name: string, san: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${ext}\n`);
    ssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`], dir);
    ssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`], dir);
  };
  leaf("server", "IP:127.0.0.1,DNS:localhost,DNS:vault.test", "serverAuth");
  leaf("client", "DNS:client", "clientAuth");
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    otherCaFile: join(dir, "other-ca.pem"),
    serverCert: join(dir, "server.pem"),
    serverKey: join(dir, "server.key"),
    clientCertFile: join(dir, "client.pem"),
    clientKeyFile: join(dir, "client.key"),
    pem: { ca: readFileSync(join(dir, "ca.pem"), "utf8"), cert: readFileSync(join(dir, "server.pem"), "utf8"), key: readFileSync(join(dir, "server.key"), "utf8") },
  };
}
