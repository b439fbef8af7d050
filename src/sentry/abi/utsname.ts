// struct utsname (sys/utsname.h): six NUL-padded fields of 65 bytes.
export const UTS_FIELD = 65;
export const SIZEOF_UTSNAME = UTS_FIELD * 6;

export interface Utsname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
  domainname: string;
}

export function encodeUtsname(u: Utsname): Buffer {
  const out = Buffer.alloc(SIZEOF_UTSNAME);
  const fields = [u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname];
  // Each field keeps at least one NUL, as the kernel's __NEW_UTS_LEN + 1 does.
  fields.forEach((f, i) => out.write(f.slice(0, UTS_FIELD - 1), i * UTS_FIELD, 'utf8'));
  return out;
}
