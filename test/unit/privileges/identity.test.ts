import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseGroup, parsePasswd, resolveIdentity, type EtcFiles } from "../../../src/privileges/identity.ts";
import { tempDir } from "../../helpers/processes.ts";

function etc(passwd: string[] | null, group: string[] | null): EtcFiles {
  const d = tempDir();
  const files = { passwd: join(d, "passwd"), group: join(d, "group") };
  if (passwd) writeFileSync(files.passwd, passwd.join("\n") + "\n");
  if (group) writeFileSync(files.group, group.join("\n") + "\n");
  return files;
}

const files = etc(
  [
    "# comment line",
    "root:x:0:0:root:/root:/bin/sh",
    "app:x:1000:1000:App:/srv/app:/bin/sh",
    "nohome:x:1001:1001:::/bin/sh",
    "broken:x:notanumber:1:::/bin/sh",
    "short:x:1",
    "",
  ],
  [
    "root:x:0:",
    "app:x:1000:",
    "web:x:33:app, other",
    "docker:x:999:other,app",
    "empty:x:500:",
    "bad:x:nan:app",
  ],
);

describe("resolveIdentity", () => {
  it("a name: uid, primary gid, groups it is a member of, home", () => {
    expect(resolveIdentity("app", files)).toEqual({
      uid: 1000, gid: 1000, groups: [1000, 33, 999], home: "/srv/app", name: "app", spec: "app",
    });
  });

  it("a numeric uid found in passwd resolves like its name", () => {
    const id = resolveIdentity("1000", files);
    expect(id.name).toBe("app");
    expect(id.groups).toEqual([1000, 33, 999]);
    expect(id.home).toBe("/srv/app");
  });

  it("a numeric uid not in passwd: gid 0, HOME / (docker and gosu do the same)", () => {
    expect(resolveIdentity("4242", files)).toEqual({ uid: 4242, gid: 0, groups: [0], home: "/", spec: "4242" });
  });

  it("user:group and uid:gid: exactly that group, no supplementary groups", () => {
    expect(resolveIdentity("app:web", files)).toMatchObject({ uid: 1000, gid: 33, groups: [33], home: "/srv/app" });
    expect(resolveIdentity("app:5", files)).toMatchObject({ uid: 1000, gid: 5, groups: [5] });
    expect(resolveIdentity("4242:4243", files)).toMatchObject({ uid: 4242, gid: 4243, groups: [4243], home: "/" });
  });

  it("an empty home field gives HOME /", () => {
    expect(resolveIdentity("nohome", files).home).toBe("/");
  });

  it("0 and the largest valid id are accepted", () => {
    expect(resolveIdentity("0:0", files).uid).toBe(0);
    expect(resolveIdentity("4294967294:4294967294", files).gid).toBe(4294967294);
  });

  it.each([
    ["ghost", 67, /unknown user 'ghost'/],
    ["app:ghosts", 67, /unknown group 'ghosts'/],
    ["broken", 67, /unknown user 'broken'/], // a malformed line is not a user
    ["4294967295", 64, /out of range/], // (uid_t)-1 means "leave unchanged" to the kernel
    ["app:4294967295", 64, /out of range/],
    ["99999999999999999999", 64, /out of range/],
    ["a:b:c", 64, /invalid value 'a:b:c'/],
    ["", 64, /invalid value ''/],
    [":1000", 64, /invalid value/],
    ["app:", 64, /invalid value/],
  ])("%j fails closed with exit %i", (spec, code, message) => {
    expect(() => resolveIdentity(spec, files)).toThrow(message);
    try {
      resolveIdentity(spec, files);
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(code);
    }
  });

  it("missing /etc files: names fail and say the file is missing, numbers still work", () => {
    const none = etc(null, null);
    expect(() => resolveIdentity("app", none)).toThrow(/unknown user 'app' \(not in .*passwd, which is missing\)/);
    expect(() => resolveIdentity("1:web", none)).toThrow(/unknown group 'web' \(not in .*group, which is missing\)/);
    expect(resolveIdentity("1000:1000", none)).toMatchObject({ uid: 1000, gid: 1000, groups: [1000] });
  });
});

describe("passwd and group lines", () => {
  it("parse the fields latchkey uses", () => {
    expect(parsePasswd("app:x:1000:1001:App:/srv/app:/bin/sh")).toEqual({ name: "app", uid: 1000, gid: 1001, home: "/srv/app" });
    expect(parseGroup("web:x:33:a, b,,c")).toEqual({ name: "web", gid: 33, members: ["a", "b", "c"] });
    expect(parseGroup("web:x:33:")).toEqual({ name: "web", gid: 33, members: [] });
  });

  it("reject malformed lines instead of guessing", () => {
    expect(parsePasswd("app:x:1000")).toBeNull();
    expect(parsePasswd("app:x:-1:0:::/bin/sh")).toBeNull();
    expect(parsePasswd("app:x:1000:x:::/bin/sh")).toBeNull();
    expect(parseGroup("web:x:33")).toBeNull();
    expect(parseGroup("web:x:abc:")).toBeNull();
  });
});
