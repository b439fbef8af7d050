# The mounts a root task may make in a sandbox granted CAP_SYS_ADMIN, call by call (run by
# test/integration/do.test.ts; natively, in a private mount namespace, for comparison).
import ctypes, errno, os, sys, tempfile

libc = ctypes.CDLL(None, use_errno=True)
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x1, 0x20, 0x1000, 0x4000, 0x40000


def call(what, r):
    print(what, 'ok' if r == 0 else errno.errorcode[ctypes.get_errno()])


def attempt(what, fn):
    try:
        fn()
        print(what, 'ok')
    except OSError as e:
        print(what, errno.errorcode[e.errno])


base = tempfile.mkdtemp()
m, b = os.path.join(base, 'm'), os.path.join(base, 'b')
os.mkdir(m)
os.mkdir(b)
call('tmpfs', libc.mount(b'none', m.encode(), b'tmpfs', 0, b'size=64k,mode=700'))
print('mode', oct(os.stat(m).st_mode & 0o777))
attempt('big write', lambda: open(os.path.join(m, 'f'), 'wb').write(b'x' * 100000))
print('listed', any(l.split()[1:3] == [m, 'tmpfs'] for l in open('/proc/self/mounts')))
call('bind', libc.mount(b'/etc', b.encode(), None, MS_BIND, None))
print('bound', os.path.exists(os.path.join(b, 'passwd')))
call('remount ro', libc.mount(None, b.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY, None))
attempt('write ro', lambda: open(os.path.join(b, 'x'), 'w'))
call('umount bind', libc.umount2(b.encode(), 0))
print('gone', not os.path.exists(os.path.join(b, 'passwd')))
call('umount tmpfs', libc.umount2(m.encode(), 0))
call('umount again', libc.umount2(m.encode(), 0))
call('umount bad flag', libc.umount2(m.encode(), 0x100))
call('make private', libc.mount(None, b'/', None, MS_PRIVATE | MS_REC, None))
r, rb = os.path.join(base, 'r'), os.path.join(base, 'rb')
os.mkdir(r)
os.mkdir(rb)
call('ro tmpfs', libc.mount(b'none', r.encode(), b'tmpfs', MS_RDONLY, None))
call('bind of ro', libc.mount(r.encode(), rb.encode(), None, MS_BIND, None))
# Refused in the sandbox, allowed natively: its frame stays as the launcher made it, and
# a bind of a read-only mount stays read-only.
call('bind of ro made rw', libc.mount(None, rb.encode(), None, MS_BIND | MS_REMOUNT, None))
call('umount /proc', libc.umount2(b'/proc', 0x2))
call('proc', libc.mount(b'proc', m.encode(), b'proc', 0, None))
