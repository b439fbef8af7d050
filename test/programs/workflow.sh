# A build-and-archive workflow of real programs, run natively and under tsvisor by
# test/integration/programs.test.ts; every line prints something stable.
set -e
cd "$1"
echo '#include <stdio.h>
int main(){puts("compiled");return 0;}' > hello.c
gcc -O2 -o hello hello.c && ./hello
printf 'all:\n\t@echo made\n' > Makefile && make -s
git init -q repo && cd repo && git config user.email a@b && git config user.name n && echo x > f && git add f && git commit -qm m && git log --oneline | wc -l && cd ..
tar czf t.tgz repo && mkdir u && tar xzf t.tgz -C u && ls u/repo
python3 -c 'import json,sqlite3; c=sqlite3.connect("db"); c.execute("create table t(x)"); c.execute("insert into t values (1)"); c.commit(); print(json.dumps(c.execute("select * from t").fetchall()))'
python3 -m venv venv && ./venv/bin/python -c 'import sys; print(sys.prefix.endswith("venv"))'
node -e 'const fs=require("fs"); fs.writeFileSync("n.txt","node ok"); console.log(fs.readFileSync("n.txt","utf8"))'
perl -e 'opendir(D,"."); print scalar(grep {!/^\./} readdir D), " entries\n"'
find . -name '*.c' | xargs wc -l
ls -l hello.c | awk '{print $1, $5}'
id -u; whoami
cp -a repo repo2 && diff -r repo repo2 && echo cp-ok
ln -s hello.c link && readlink link && rm link
mkdir -p a/b/c && rmdir -p a/b/c && echo rmdir-ok
echo done
