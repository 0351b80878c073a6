# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The documentation against the tree: the man page renders without a
# warning and names every command and option the binary has; make install
# installs exactly the files the README lists, and make uninstall removes
# them; every relative link of README.md, docs/*.md and tests/README.md leads
# somewhere; every path of the tree that a comment or a document names
# exists; each header of lib/ compiles alone, the command never sees
# lib/internal.h, and docs/design.md's table of library files names every
# file of lib/.

ALL_TESTS="test_docs_man test_docs_install test_docs_links test_docs_paths test_docs_headers"

MAN_PAGE=docs/flowacct.8

# render_man PAGE: the page as plain text (no bold, underline or colour).
render_man() {
	groff -man -Tascii -P-c -P-b -P-u "$1"
}

# man_section TEXT CMD: the text of the page's "flowacct CMD ..." section,
# up to the next command's section or the next top-level heading.
man_section() {
	awk -v cmd="$2" '
		/^   flowacct [a-z]/ { on = ($2 == cmd) }
		/^[A-Z]/ { on = 0 }
		on' "$1"
}

test_docs_man() {
	local cmd opt section
	scratch
	groff -ww -z -man "$MAN_PAGE" 2>"$SCRATCH/groff.log"
	[ ! -s "$SCRATCH/groff.log" ] || fail "groff warns: $(cat "$SCRATCH/groff.log")"
	MANWIDTH=80 man --warnings -l "$MAN_PAGE" >/dev/null 2>"$SCRATCH/man.log"
	[ ! -s "$SCRATCH/man.log" ] || fail "man warns: $(cat "$SCRATCH/man.log")"

	render_man "$MAN_PAGE" >"$SCRATCH/page.txt"
	# The commands, as flowacct --help lists them under "Commands:".
	$FLOWACCT --help | awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' \
		>"$SCRATCH/commands"
	[ "$(wc -l <"$SCRATCH/commands")" -ge 10 ] ||
		fail "fewer commands than expected in --help: $(cat "$SCRATCH/commands")"
	while read -r cmd; do
		man_section "$SCRATCH/page.txt" "$cmd" >"$SCRATCH/section"
		[ -s "$SCRATCH/section" ] || fail "no section 'flowacct $cmd' in the man page"
		# Only the --name words: the help's other text may change.
		$FLOWACCT "$cmd" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u >"$SCRATCH/opts"
		[ -s "$SCRATCH/opts" ] || fail "$cmd --help lists no option"
		while read -r opt; do
			case $opt in
			--json | --help) section=$SCRATCH/page.txt ;;	# global options
			*) section=$SCRATCH/section ;;
			esac
			grep -E -- "(^|[^a-z-])$opt([^a-z0-9-]|\$)" "$section" >/dev/null ||
				fail "the man page's 'flowacct $cmd' section does not name $opt"
		done <"$SCRATCH/opts"
		echo "flowacct $cmd: $(wc -l <"$SCRATCH/opts") options, all in the page"
	done <"$SCRATCH/commands"
	# The global options, from flowacct --help.
	for opt in $($FLOWACCT --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -E -- "(^|[^a-z-])$opt([^a-z0-9-]|\$)" "$SCRATCH/page.txt" >/dev/null ||
			fail "the man page does not name the global option $opt"
	done
}

test_docs_install() {
	local root prefix unit
	scratch
	root=$SCRATCH/root
	prefix=$SCRATCH/prefix

	# The list the README gives (make install's defaults), and docs/service.md
	# gives the same one.
	grep -E '^/usr/local/' README.md | sort >"$SCRATCH/documented"
	[ "$(wc -l <"$SCRATCH/documented")" = 4 ] ||
		fail "the README should list four installed files: $(cat "$SCRATCH/documented")"
	grep -E '^/usr/local/' docs/service.md | sort | diff "$SCRATCH/documented" - ||
		fail "docs/service.md lists other files than the README"

	make --no-print-directory -s install DESTDIR="$root"
	(cd "$root" && find . ! -type d | sed 's#^\.##' | sort) >"$SCRATCH/installed"
	diff "$SCRATCH/documented" "$SCRATCH/installed" ||
		fail "make install DESTDIR= installs other files than the README lists"
	[ -x "$root/usr/local/sbin/flowacct" ] || fail "the command is not executable"
	"$root/usr/local/sbin/flowacct" --version | grep '^flowacct ' >/dev/null ||
		fail "the installed command does not run"
	grep -q '^ExecStart=/usr/local/sbin/flowacct run %i ' \
		"$root/usr/local/lib/systemd/system/flowacct@.service" ||
		fail "the unit does not name the installed command without DESTDIR"
	grep -q '^ExecStart=/usr/local/sbin/flowacct run --all ' \
		"$root/usr/local/lib/systemd/system/flowacct.service" ||
		fail "the host's unit does not name the installed command without DESTDIR"
	! grep -q '@FLOWACCT@' "$root"/usr/local/lib/systemd/system/flowacct*.service ||
		fail "@FLOWACCT@ left in a unit"

	# The installed page renders, with no warning.
	MANWIDTH=80 man --warnings -l "$root/usr/local/share/man/man8/flowacct.8" \
		>"$SCRATCH/page.txt" 2>"$SCRATCH/man.log"
	[ ! -s "$SCRATCH/man.log" ] || fail "man warns: $(cat "$SCRATCH/man.log")"
	grep 'flowacct attach' "$SCRATCH/page.txt" >/dev/null || fail "the installed page is empty"

	make --no-print-directory -s uninstall DESTDIR="$root"
	[ -z "$(find "$root" ! -type d)" ] || fail "make uninstall left: $(find "$root" ! -type d)"

	# The unit as installed, checked as tests/suites/test_run.sh checks the one in
	# scripts/: installed under a PREFIX that exists, so that the command it
	# names is there for systemd-analyze to find.
	make --no-print-directory -s install PREFIX="$prefix"
	unit=$prefix/lib/systemd/system/flowacct@.service
	grep -q "^ExecStart=$prefix/sbin/flowacct run %i " "$unit" || fail "ExecStart under PREFIX"
	mkdir "$SCRATCH/unit"
	cp "$unit" "$SCRATCH/unit/flowacct@veth0.service"
	SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$SCRATCH/unit/flowacct@veth0.service" \
		"$prefix/lib/systemd/system/flowacct.service" 2>&1 | tee "$SCRATCH/verify.log"
	if grep -v '^$' "$SCRATCH/verify.log" >/dev/null; then
		fail "systemd-analyze verify complains"
	fi
	make --no-print-directory -s uninstall PREFIX="$prefix"
	[ -z "$(find "$prefix" ! -type d)" ] || fail "make uninstall left: $(find "$prefix" ! -type d)"
}

test_docs_links() {
	local lines
	lines=$(wc -l <README.md)
	[ "$lines" -le 400 ] || fail "README.md has $lines lines, more than 400"
	python3 - README.md docs/*.md tests/README.md <<'EOF'
# Every relative link leads to a file that exists, and an #anchor into a .md
# file to a heading that makes it by GitHub's rules; the README links every
# page of docs/.
import os, re, sys

def strip_code(text):
	"""The text without fenced blocks, and a list of its non-fenced lines."""
	out, fence = [], False
	for ln in text.split("\n"):
		if re.match(r"^\s*(```|~~~)", ln):
			fence = not fence
			continue
		out.append("" if fence else ln)
	return out

def anchors(path):
	"""GitHub's anchors: the heading's text, lower case, without what is not a
	letter, digit, space, '-' or '_', spaces made '-'; a repeat gets -1, -2..."""
	seen, out = {}, set()
	for ln in strip_code(open(path).read()):
		m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", ln)
		if not m:
			continue
		text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))
		text = text.replace("`", "").replace("*", "")
		slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
		n = seen.get(slug, 0)
		out.add(slug if n == 0 else "%s-%d" % (slug, n))
		seen[slug] = n + 1
	return out

bad = []
linked = set()
for f in sys.argv[1:]:
	for no, ln in enumerate(strip_code(open(f).read()), 1):
		ln = re.sub(r"`[^`]*`", "", ln)	# inline code is not a link
		for target in re.findall(r"\]\(([^)\s]+)\)", ln):
			if re.match(r"^[a-z]+:", target):
				continue	# http:, https:, mailto:
			path, _, anchor = target.partition("#")
			dest = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
			if f == "README.md":
				linked.add(dest)
			if not os.path.exists(dest):
				bad.append("%s:%d: %s: no such file" % (f, no, target))
			elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
				bad.append("%s:%d: %s: no heading makes #%s" % (f, no, target, anchor))
for page in sys.argv[1:]:
	if page.startswith("docs/") and page not in linked:
		bad.append("README.md does not link %s" % page)
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# Every tests/..., lib/..., loader/..., common/..., scripts/... and docs/...
# path named in the sources, scripts and documents exists, as a file or a
# directory of the tree or as a build output (build/PATH, such as
# tests/bench/flowbench), so that comments and docs follow files that move.
# Paths inside another path (build/tests/..., /usr/lib/...) and #include <...>
# are not the tree's; a pattern (tests/suites/test_*.sh) must match a file.
test_docs_paths() {
	find lib loader common xdp tc sock scripts tests docs README.md Makefile \
		-name __pycache__ -prune -o -type f ! -name '*.pcap' -print |
		xargs grep -IHno -P '(?<![\w/.:@$<-])(tests|lib|loader|common|scripts|docs)/[\w./@*-]*' |
		python3 -c '
import glob, os, re, sys

# What scripts write, named as their outputs.
OUTPUTS = {"tests/fuzz/found.pcap"}
bad = []
for line in sys.stdin:
	where, _, path = line.rstrip("\n").rpartition(":")
	path = re.sub(r"[.,:;-]+$", "", path)
	if path in OUTPUTS or "*" in path and glob.glob(path):
		continue
	if not (os.path.exists(path) or os.path.exists("build/" + path)):
		bad.append("%s: %s does not exist" % (where, path))
print("\n".join(bad))
sys.exit(1 if bad else 0)
'
}

test_docs_headers() {
	local cflags h name f n=0
	scratch
	# The Makefile's own flags, so that this checks what the build sees.
	cflags=$(make --no-print-directory -s print-cflags)
	[ -n "$cflags" ] || fail "make print-cflags printed nothing"
	for h in lib/*.h; do
		name=${h#lib/}
		# First in an empty file: it includes what it uses. Twice: guarded.
		printf '#include "%s"\n#include "%s"\n' "$name" "$name" >"$SCRATCH/alone.c"
		# shellcheck disable=SC2086 # one word per flag
		${CC:-gcc} $cflags -fsyntax-only "$SCRATCH/alone.c" ||
			fail "$h does not compile alone"
		n=$((n + 1))
	done
	[ "$n" -ge 10 ] || fail "only $n headers in lib/"
	echo "$n headers of lib/ compile alone"

	# What the command's files see, through every header they include.
	for f in loader/*.c lib/libflowacct.h; do
		# shellcheck disable=SC2086
		${CC:-gcc} $cflags -E -dM -x c "$f" -o "$SCRATCH/macros" ||
			fail "$f does not preprocess"
		if grep -w FLOWACCT_INTERNAL_H "$SCRATCH/macros" >/dev/null; then
			fail "$f includes lib/internal.h, which is for lib/ only"
		fi
	done
	echo "loader/ and lib/libflowacct.h do not include lib/internal.h"

	awk '/^## / { on = ($0 == "## Library files") } on && /^\| `/' docs/design.md \
		>"$SCRATCH/table"
	for f in lib/*; do
		grep -F "\`${f#lib/}\`" "$SCRATCH/table" >/dev/null ||
			fail "docs/design.md's table of library files does not name ${f#lib/}"
	done
	echo "docs/design.md's table names the $(find lib -type f | wc -l) files of lib/"
}
