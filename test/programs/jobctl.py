# Drives an interactive bash on a pseudo-terminal through job control: a foreground job
# stopped with Ctrl-Z, resumed in the background, listed, and killed.
import os, pty, sys, time, select

def read_until(fd, token, timeout=10):
    buf = b''
    end = time.time() + timeout
    while token not in buf:
        left = end - time.time()
        if left <= 0:
            raise SystemExit(f'timeout waiting for {token!r}; got {buf!r}')
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf

pid, fd = pty.fork()
if pid == 0:
    os.execvp('bash', ['bash', '--norc', '--noprofile', '-i'])
os.write(fd, b"PS1='$ '\n")
read_until(fd, b'$ ')
steps = [
    (b'sleep 30\n', None),
    (b'\x1a', b'Stopped'),
    (b'jobs\n', b'$ '),
    (b'bg %1\n', b'$ '),
    (b'jobs\n', b'Running'),
    (b'kill %1; wait\n', b'$ '),
    (b'jobs; echo jobs-listed\n', b'jobs-listed\r\n'),
]
out = []
for send, expect in steps:
    os.write(fd, send)
    if expect:
        got = read_until(fd, expect)
        out.append(got.decode(errors='replace'))
    else:
        time.sleep(0.5)
os.write(fd, b'exit\n')
_, status = os.waitpid(pid, 0)
text = ''.join(out)
for word in ['Stopped', 'sleep 30 &', 'Running']:
    print(word, word in text)
# What `jobs` lists after the kill: at most a "Terminated" notice, no live job.
listed = out[-1].split('jobs-listed')[-2].split('\n', 1)[-1]
print('none left', 'Running' not in listed and 'Stopped' not in listed)
print('exit', os.waitstatus_to_exitcode(status))
