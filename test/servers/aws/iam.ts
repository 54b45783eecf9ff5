/**
 * IAM setup against moto with INITIAL_NO_AUTH_ACTION_COUNT: the first N actions run without
 * auth (they create the user, its policy, its key and the secrets); after that moto enforces
 * IAM policies, so a denied action is denied for real. N must equal the actions done here.
 */
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/** Sign a query-protocol IAM call with the SDK's own signer (IAM has no client in our deps). */
async function iamCall(url: string, params: Record<string, string>): Promise<string> {
  const { SignatureV4 } = await import("@smithy/signature-v4");
  const { Sha256 } = await import("./sha256.ts");
  const body = new URLSearchParams({ ...params, Version: "2010-05-08" }).toString();
  const u = new URL(url);
  const signer = new SignatureV4({ service: "iam", region: "us-east-1", credentials: { accessKeyId: "testing", secretAccessKey: "testing" }, sha256: Sha256 as never });
  const signed = await signer.sign({ method: "POST", protocol: u.protocol, hostname: u.hostname, port: Number(u.port), path: "/", headers: { host: u.host, "content-type": "application/x-www-form-urlencoded" }, body });
  const r = await fetch(url + "/", { method: "POST", headers: signed.headers as Record<string, string>, body });
  const text = await r.text();
  if (!r.ok) throw new Error(`IAM ${params.Action} failed: ${r.status} ${text}`);
  return text;
}

/** Actions used: 3 IAM calls per user; count them into INITIAL_NO_AUTH_ACTION_COUNT. */
export async function createIamUser(url: string, user: string, statements: unknown[]): Promise<{ id: string; secret: string }> {
  await iamCall(url, { Action: "CreateUser", UserName: user });
  await iamCall(url, { Action: "PutUserPolicy", UserName: user, PolicyName: "latchkey-test", PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: statements }) });
  const xml = await iamCall(url, { Action: "CreateAccessKey", UserName: user });
  const id = /<AccessKeyId>([^<]+)</.exec(xml)![1]!;
  const secret = /<SecretAccessKey>([^<]+)</.exec(xml)![1]!;
  return { id, secret };
}

/** Actions used: one per secret. */
export async function createSecrets(url: string, secrets: [string, string][]): Promise<void> {
  const sm = new SecretsManagerClient({ region: "us-east-1", endpoint: url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
  for (const [name, value] of secrets) await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  sm.destroy();
}
