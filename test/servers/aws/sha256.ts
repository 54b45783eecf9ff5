/** The Checksum interface the SigV4 signer wants, over node:crypto. */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";

export class Sha256 {
  #h: Hash | Hmac;
  constructor(secret?: string | Uint8Array) {
    this.#h = secret ? createHmac("sha256", secret) : createHash("sha256");
  }
  update(data: string | Uint8Array): void {
    this.#h.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#h.digest());
  }
  reset(): void {}
}
