/**
 * Write-style vault:// references (src/sources/vault/write.ts): the body from the parameters,
 * one call per path and body whatever the order, the answer held as a stand-in lease until the
 * certificate expires, the chain as PEM, and refusals that name the reference.
 */
import { describe, expect, it } from "vitest";
import { parseReference } from "../../../../src/sources/source.ts";
import { isWriteLease, isWriteReference, writeBody, writeKey, writeSecret } from "../../../../src/sources/vault/write.ts";
import { VaultHttpError, type VaultClient } from "../../../../src/sources/vault/client.ts";

const ref = (raw: string) => parseReference(raw, "X", { checkScheme: false })!;

function fakeClient(reply: Record<string, unknown> | Error): { c: VaultClient; calls: { method: string; path: string; body: unknown }[] } {
  const calls: { method: string; path: string; body: unknown }[] = [];
  const c = {
    call: async (method: string, path: string, o: { body?: unknown }) => {
      calls.push({ method, path, body: o.body });
      if (reply instanceof Error) throw reply;
      return reply;
    },
  } as unknown as VaultClient;
  return { c, calls };
}

describe("write-style vault:// references", () => {
  it("?write marks a write; every other parameter is a body field; order and #key do not split the call", () => {
    const a = ref("vault://pki/issue/web?write&common_name=app.example.test&ttl=30s#certificate");
    const b = ref("vault://pki/issue/web?ttl=30s&write&common_name=app.example.test#private_key");
    expect(isWriteReference(a)).toBe(true);
    expect(isWriteReference(ref("vault://secret/app#k"))).toBe(false);
    expect(writeBody(a)).toEqual({ common_name: "app.example.test", ttl: "30s" });
    expect(writeKey("pki/issue/web", writeBody(a))).toBe(writeKey("pki/issue/web", writeBody(b)));
    expect(writeKey("pki/issue/web", writeBody(a))).not.toBe(writeKey("pki/issue/web", { ...writeBody(a), ttl: "1m" }));
    expect(() => writeBody(ref("vault://pki/issue/web?write=yes"))).toThrow(/'write' takes no value/);
  });

  it("POSTs the body; the answer is held as a stand-in lease ending at the certificate's expiry; ca_chain as PEM", async () => {
    const now = 1_800_000_000_000;
    const { c, calls } = fakeClient({
      data: { certificate: "C", private_key: "K", ca_chain: ["-----BEGIN A-----", "-----BEGIN B-----\n"], serial_number: "aa:bb", expiration: now / 1000 + 30 },
      lease_id: "", lease_duration: 0,
    });
    const r = ref("vault://pki/issue/web?write&common_name=x#certificate");
    const got = await writeSecret(c, r, "pki/issue/web", writeBody(r), Date.now() + 1000, [], () => now);
    expect(calls).toEqual([{ method: "POST", path: "pki/issue/web", body: { common_name: "x" } }]);
    expect(JSON.parse(got.value.toString()).ca_chain).toBe("-----BEGIN A-----\n-----BEGIN B-----\n");
    expect(got.lease).toEqual({ id: "write:aa:bb", durationSec: 30, renewable: false });
    expect(isWriteLease(got.lease!.id)).toBe(true);
  });

  it("an answer without an expiry is held for the container's life (a poll must not mint another)", async () => {
    const { c } = fakeClient({ data: { random_bytes: "R" } });
    const r = ref("vault://sys/tools/random/32?write#random_bytes");
    const got = await writeSecret(c, r, "sys/tools/random/32", writeBody(r), Date.now() + 1000, []);
    expect(got.lease!.durationSec).toBeGreaterThan(365 * 86400);
    expect(got.lease!.renewable).toBe(false);
  });

  it("refusals name the reference: 403 is a grant (77), 400 a bad parameter (78) with Vault's reason, 5xx temporary (75)", async () => {
    const r = ref("vault://pki/issue/web?write&common_name=evil.example.com#certificate");
    const fail = async (e: Error) => {
      try {
        await writeSecret(fakeClient(e).c, r, "pki/issue/web", writeBody(r), Date.now() + 1000, ["issue-web"]);
      } catch (err) {
        return err as { exitCode: number; message: string };
      }
      return expect.unreachable("should fail");
    };
    const denied = await fail(new VaultHttpError(403, ["permission denied"], null, "pki/issue/web"));
    expect(denied.exitCode).toBe(77);
    expect(denied.message).toMatch(/^vault:\/\/pki\/issue\/web\?write&common_name=evil.example.com#certificate: permission denied writing 'pki\/issue\/web' \(403\): the token's policies \(issue-web\) do not grant 'update'/);
    const bad = await fail(new VaultHttpError(400, ["common name evil.example.com not allowed by this role"], null, "pki/issue/web"));
    expect(bad.exitCode).toBe(78);
    expect(bad.message).toMatch(/Vault refused the write to 'pki\/issue\/web' \(400\): common name evil.example.com not allowed by this role$/);
    expect((await fail(new VaultHttpError(503, ["sealed"], null, "pki/issue/web"))).exitCode).toBe(75);
  });
});
