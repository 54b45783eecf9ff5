/**
 * RS256 JWTs for the Kubernetes and JWT auth methods of the test Vault. Real Vault checks a
 * service-account token with the cluster's TokenReview API or the issuer's keys; the test
 * server checks the signature against a configured public key, expiry and the bound claims,
 * so a forged or expired token is refused as Vault would refuse it.
 */
import { createSign, createVerify, generateKeyPairSync, type KeyObject } from "node:crypto";

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newKeyPair(): KeyPair {
  return generateKeyPairSync("rsa", { modulusLength: 2048 });
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString("base64url");

export function signJwt(claims: Record<string, unknown>, key: KeyObject): string {
  const head = b64u(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const body = b64u(JSON.stringify(claims));
  const sig = createSign("RSA-SHA256").update(`${head}.${body}`).sign(key);
  return `${head}.${body}.${b64u(sig)}`;
}

/** The claims of a valid token, or null (bad shape, bad signature, expired, not yet valid). */
export function verifyJwt(token: string, key: KeyObject, nowSec = Date.now() / 1000): Record<string, unknown> | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const head = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as { alg?: string };
    if (head.alg !== "RS256") return null;
    const ok = createVerify("RSA-SHA256").update(`${parts[0]}.${parts[1]}`).verify(key, Buffer.from(parts[2]!, "base64url"));
    if (!ok) return null;
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
    if (typeof claims.exp === "number" && claims.exp < nowSec) return null;
    if (typeof claims.nbf === "number" && claims.nbf > nowSec + 60) return null;
    return claims;
  } catch {
    return null;
  }
}
