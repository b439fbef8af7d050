# Extended attributes by name, printed call by call: run natively and under tsvisor by
# test/integration/do.test.ts.
import os, sys, errno
d = sys.argv[1]
f = os.path.join(d, 'f'); open(f, 'w').close()
l = os.path.join(d, 'l')
if os.path.lexists(l): os.unlink(l)
os.symlink('f', l)
def show(what, fn):
    try: print(what, fn())
    except OSError as e: print(what, errno.errorcode[e.errno])
show('set', lambda: os.setxattr(f, 'user.k', b'hello'))
show('get', lambda: os.getxattr(f, 'user.k'))
show('get via link', lambda: os.getxattr(l, 'user.k'))
show('get nofollow', lambda: os.getxattr(l, 'user.k', follow_symlinks=False))
show('list', lambda: sorted(os.listxattr(f)))
show('create again', lambda: os.setxattr(f, 'user.k', b'x', os.XATTR_CREATE))
show('replace missing', lambda: os.setxattr(f, 'user.none', b'x', os.XATTR_REPLACE))
show('missing', lambda: os.getxattr(f, 'user.none'))
show('long name', lambda: os.getxattr(f, 'user.' + 'x' * 300))
show('trusted', lambda: os.setxattr(f, 'trusted.t', b'x'))
show('remove', lambda: os.removexattr(f, 'user.k'))
show('list after', lambda: os.listxattr(f))
