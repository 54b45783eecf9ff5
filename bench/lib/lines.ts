/** Lines from a child's stdout, awaited one at a time (null: timed out or the stream ended). */
export class Lines {
  #buf = "";
  #queue: string[] = [];
  #waiter: ((l: string | null) => void) | null = null;
  #ended = false;
  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => {
      this.#buf += d;
      let i: number;
      while ((i = this.#buf.indexOf("\n")) >= 0) {
        this.#push(this.#buf.slice(0, i));
        this.#buf = this.#buf.slice(i + 1);
      }
    });
    stream.on("end", () => {
      this.#ended = true;
      this.#waiter?.(null);
    });
  }
  #push(l: string) {
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w(l);
    } else this.#queue.push(l);
  }
  next(ms: number): Promise<string | null> {
    if (this.#queue.length) return Promise.resolve(this.#queue.shift()!);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#waiter = null;
        resolve(null);
      }, ms);
      this.#waiter = (l) => {
        clearTimeout(t);
        resolve(l);
      };
    });
  }
}
