#!/bin/sh
# Man pages of the acre command, one per command group (acre-slice.1,
# acre-node.1, ...) and acre.1, written from what the built binary prints
# for `acre --help` and `acre OBJECT help`: the CLI's own command tables, so
# a page cannot describe a command the binary lacks or miss one it has.
# The daemons' pages (acre-supervisor.8, acre-controller.8) are their
# --help, the same way.
#
# Usage: debian/gen-manpages.sh BINDIR OUTDIR VERSION
set -eu

BIN=$1
ACRE=$BIN/acre
OUT=$2
VERSION=$3
mkdir -p "$OUT"

# roff-safe text: a leading dot or quote would be taken as a request, and a
# backslash as an escape.
esc() { sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/' -e 's/-/\\-/g'; }

header() { # NAME SUMMARY [SECTION]
	printf '.TH %s %s "" "acre %s" "acre"\n' "$(echo "$1" | tr "[:lower:]" "[:upper:]")" "${3:-1}" "$VERSION"
	printf '.SH NAME\n%s \\- %s\n' "$(echo "$1" | esc)" "$2"
}

daemon_page() { # NAME SUMMARY CONFIG
	{
		header "$1" "$2" 8
		printf '.SH SYNOPSIS\n.nf\n'
		"$BIN/$1" --help 2>&1 | sed -n '1s/^usage: //p' | esc
		printf '.fi\n.SH DESCRIPTION\n'
		printf 'On a Debian host, systemd runs it as \\fB%s.service\\fR with the options of \\fI%s\\fR;\n' "$1" "$3"
		printf 'see /usr/share/doc/%s/README.Debian.\n' "$1"
		printf '.SH OPTIONS\n.nf\n'
		"$BIN/$1" --help 2>&1 | sed '1d' | esc
		printf '.fi\n.SH SEE ALSO\n\\fBacre\\fR(1)\n'
	} >"$OUT/$1.8"
}

global_options() {
	printf '.SH GLOBAL OPTIONS\nThey come before the object (see \\fBacre\\fR(1)).\n.PP\n.nf\n'
	"$ACRE" --help 2>&1 | sed -n '/OPTIONS:/,/^Commands:/p' | sed '1d;$d' | esc
	printf '.fi\n'
}

objects=$("$ACRE" --help 2>&1 | sed -n 's/^  acre \([a-z][a-z-]*\) {.*/\1/p')
[ -n "$objects" ] || {
	echo "gen-manpages: $ACRE --help lists no command group" >&2
	exit 1
}

{
	header acre "the command line of the acre data center operating system"
	printf '.SH SYNOPSIS\n.nf\n'
	"$ACRE" --help 2>&1 | sed -n '1p' | sed 's/^usage: //' | esc
	printf '.fi\n.SH DESCRIPTION\n'
	printf 'bpftool\\-style: \\fBacre\\fR [\\fIOPTIONS\\fR] \\fIOBJECT COMMAND\\fR [\\fIARGS\\fR].\n'
	printf 'Objects and commands may be shortened to a unique prefix.\n'
	printf 'Exit status 0 on success, 1 on error with one line on standard error.\n'
	printf '.SH COMMANDS\n.nf\n'
	"$ACRE" --help 2>&1 | sed -n '/^Commands:/,$p' | sed '1d' | esc
	printf '.fi\n'
	global_options
	printf '.SH SEE ALSO\n'
	for o in $objects; do printf '\\fBacre\\-%s\\fR(1)\n' "$o"; done
} >"$OUT/acre.1"

for o in $objects; do
	# `acre OBJECT help` prints the object's table; an object without
	# subcommands prints its one usage line (events), or nothing when it
	# takes "help" for an argument (why): then the object's line of
	# `acre --help`, which comes from the table of objects.
	usage=$("$ACRE" "$o" help 2>&1 | sed -n 's/^acre: usage: //p; /^  acre /s/^  //p; /^      /p')
	[ -n "$usage" ] ||
		usage=$("$ACRE" --help 2>&1 | sed -n "s/^  acre $o { \(.*\) }\$/acre $o \1/p")
	[ -n "$usage" ] || {
		echo "gen-manpages: neither acre $o help nor acre --help gives its usage" >&2
		exit 1
	}
	{
		header "acre-$o" "acre $o commands"
		printf '.SH SYNOPSIS\n.nf\n'
		echo "$usage" | esc
		printf '.fi\n'
		global_options
		printf '.SH SEE ALSO\n\\fBacre\\fR(1)\n'
	} >"$OUT/acre-$o.1"
done
daemon_page acre-supervisor "the per-host daemon of acre: this host's slices" /etc/acre/supervisor.conf
daemon_page acre-controller "the pool controller of acre" /etc/acre/controller.conf
ls "$OUT"
