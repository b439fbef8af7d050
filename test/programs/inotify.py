# inotify through the sentry: a watch added by name fires for that file, and a close at
# once. Run natively and under tsvisor by test/integration/do.test.ts.
import ctypes, os, select, struct, sys

libc = ctypes.CDLL(None, use_errno=True)
d = sys.argv[1]
fd = libc.inotify_init1(0)
wd = libc.inotify_add_watch(fd, d.encode(), 0x100 | 0x2)  # IN_CREATE | IN_MODIFY
print("watch", wd > 0)
with open(os.path.join(d, "new"), "w") as f:
    f.write("x")
seen = []
while select.select([fd], [], [], 2)[0]:
    data = os.read(fd, 4096)
    while data:
        w, mask, _cookie, n = struct.unpack("iIII", data[:16])
        seen.append((w == wd, hex(mask), data[16:16 + n].rstrip(b"\0").decode()))
        data = data[16 + n:]
    if len(seen) >= 2:
        break
print("events", seen)
print("missing", libc.inotify_add_watch(fd, os.path.join(d, "nope").encode(), 0x100), ctypes.get_errno())
# IN_CLOSE_WRITE is queued by the close that drops the file's last reference: it must be
# there as soon as close() returns (a copy kept by the sentry would delay it).
libc.inotify_add_watch(fd, d.encode(), 0x8)  # IN_CLOSE_WRITE
late = 0
for i in range(100):
    f = os.open(os.path.join(d, "c%d" % i), os.O_CREAT | os.O_WRONLY, 0o644)
    os.close(f)
    if not select.select([fd], [], [], 0)[0]:
        late += 1
    while select.select([fd], [], [], 0)[0]:
        os.read(fd, 4096)
print("close events late", late)
