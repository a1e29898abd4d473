# acre: build, test, install.  `make` builds build/bin/{acre,acre-supervisor,acre-init,acre-controller};
# `make check` runs every test; `make deps` installs what a fresh Debian 12 needs.

CC	?= gcc
CLANG	?= clang
BUILD	?= build
PREFIX	?= /usr/local

PKGS	:= libcgroup libseccomp libcap libnl-3.0 libnl-route-3.0 libbpf libevent \
	   libevent_openssl jansson openssl sqlite3 libnftables ldns
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	:= -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation -Wvla
CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -D_GNU_SOURCE -fno-strict-aliasing -fstack-protector-strong \
	   -D_FORTIFY_SOURCE=2 $(WARN) -I. $(PKG_CFLAGS)
LDFLAGS	+= -Wl,-z,relro,-z,now -Wl,--as-needed

# Unit tests run a second time under AddressSanitizer and UBSan.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=undefined

# Debian package names; the README's dependency table says why each is needed.
DEPS := build-essential pkg-config clang llvm libcgroup-dev libseccomp-dev libcap-dev \
	libnl-3-dev libnl-route-3-dev libbpf-dev bpftool libcmocka-dev libevent-dev \
	libssl-dev libjansson-dev libsqlite3-dev libnftables-dev libldns-dev \
	python3 jq curl openssl procps crun iperf3 prometheus nginx-light hyperfine busybox-static \
	redis-server redis-tools memcached haproxy postgresql mariadb-server rabbitmq-server zookeeperd \
	etcd-server etcd-client netcat-openbsd \
	dnsperf dnsmasq-base bind9-dnsutils e2fsprogs \
	iproute2 cpio kmod \
	qemu-system-x86 linux-image-amd64 xz-utils \
	debhelper dpkg-dev fakeroot lintian debootstrap \
	libclang-rt-14-dev cppcheck clang-format

MODULES	:= common proto isolation netns bpf supervisor controller cli
src	= $(filter-out %.bpf.c,$(wildcard $(1)/*.c))
obj	= $(patsubst %.c,$(BUILD)/obj/%.o,$(call src,$(1)))

LIB_common	:= $(BUILD)/lib/libacre-common.a
LIB_proto	:= $(BUILD)/lib/libacre-proto.a
LIB_isolation	:= $(BUILD)/lib/libacre-isolation.a
LIB_netns	:= $(BUILD)/lib/libacre-netns.a
LIB_bpf		:= $(BUILD)/lib/libacre-bpf.a
LIB_controller	:= $(BUILD)/lib/libacre-controller.a

BINS := $(BUILD)/bin/acre $(BUILD)/bin/acre-supervisor $(BUILD)/bin/acre-init \
	$(BUILD)/bin/acre-controller

.PHONY: all check unit integration vm-check deps run bench install format lint clean bpf-test \
	deb vm-install-test
all: $(BINS)

# Keep objects: they are inputs of several archives and of the sanitizer builds.
.SECONDARY:

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

.SECONDEXPANSION:

$(BUILD)/lib/libacre-%.a: $$(call obj,$$*)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

# The node protocol is proto/'s: no binary but acre-controller links controller code.
$(BUILD)/bin/acre: $(call obj,cli) $(LIB_proto) $(LIB_common)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)

$(BUILD)/bin/acre-supervisor: $(call obj,supervisor) $(LIB_isolation) $(LIB_netns) $(LIB_bpf) \
		$(LIB_proto) $(LIB_common)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)

# The controller is built from its layers' folders (controller/pool/, store/, nodeport/, api/, ...).
controller_src := $(wildcard controller/*.c controller/*/*.c)
controller_obj := $(patsubst %.c,$(BUILD)/obj/%.o,$(controller_src))
controller_san_obj := $(patsubst %.c,$(BUILD)/obj-san/%.o,$(filter-out controller/main.c,$(controller_src)))

$(LIB_controller): $(controller_obj)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/lib-san/libacre-controller.a: $(controller_san_obj)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/acre-controller: $(controller_obj) $(LIB_proto) $(LIB_common)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)

# bench/pool: the node simulator and API load of the pool benchmark (make bench).
BENCH_POOL := $(BUILD)/bench/acre-bench-pool
$(BENCH_POOL): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard bench/pool/*.c)) $(LIB_proto) $(LIB_common)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)

# bench/vip.sh: short TCP connections from one thread, to a VIP and to its member.
BENCH_VIP_CONN := $(BUILD)/bench/acre-bench-vip-conn
$(BENCH_VIP_CONN): bench/vip_conn.c
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

# A supervisor and a controller of the next protocol version (each speaks ACRE_PROTOCOL_MIN to
# ACRE_PROTOCOL_MAX + 1; only the supervisor's link and the controller's negotiation differ):
# tests/integration/test_node_join.sh joins the one to today's controller and today's
# supervisor to the other, a node and a controller one release apart.  Test binaries, never
# installed.
PROTOCOL_NEXT := $(shell echo $$(( $$(sed -n 's/^\#define ACRE_PROTOCOL_MAX //p' proto/proto.h) + 1 )))
# ... and of the next minor version: 0.1.0 -> 0.2.0, which the supervisor reports at registration.
VERSION_NEXT := $(shell sed -n 's/^\#define ACRE_VERSION "\([0-9]*\)\.\([0-9]*\)\..*"/\1 \2/p' common/common.h | \
	awk '{ print $$1 "." $$2 + 1 ".0" }')
SUPERVISOR_NEXT := $(BUILD)/test/acre-supervisor-next
CONTROLLER_NEXT := $(BUILD)/test/acre-controller-next
$(BUILD)/obj-next/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (version $(VERSION_NEXT), protocol $(PROTOCOL_NEXT))"
	@$(CC) $(CFLAGS) -DACRE_PROTOCOL_MAX=$(PROTOCOL_NEXT) -DACRE_VERSION='"$(VERSION_NEXT)"' \
		-MMD -MP -c $< -o $@
$(SUPERVISOR_NEXT): $(filter-out %/controller_link.o,$(call obj,supervisor)) \
		$(BUILD)/obj-next/supervisor/controller_link.o $(LIB_isolation) $(LIB_netns) \
		$(LIB_bpf) $(LIB_proto) $(LIB_common)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)
# The object before the archive: the archive's own proto/version.o is then never pulled.
$(CONTROLLER_NEXT): $(BUILD)/obj-next/proto/version.o $(controller_obj) $(LIB_proto) $(LIB_common)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)

# acre-init runs inside any rootfs, which may have no C library: link it statically,
# from the files that build a slice and nothing else (proto/fds.c: its claim's fds).
INIT_SRCS := $(wildcard isolation/init/*.c) netns/loopback.c netns/ports.c common/error.c proto/fds.c
$(BUILD)/bin/acre-init: $(INIT_SRCS) $(wildcard isolation/*.h netns/*.h common/*.h proto/*.h)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -static $(INIT_SRCS) -o $@ -lcap

# ---- eBPF -------------------------------------------------------------------
# CO-RE: vmlinux.h comes from this kernel's BTF at build time; each bpf/X.bpf.c
# becomes build/bpf/X.bpf.o and the skeleton build/bpf/X.skel.h (never committed).
BPFTOOL	?= bpftool
LLVM_STRIP ?= llvm-strip
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
BPF_OUT	:= $(BUILD)/bpf
BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/')
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BPF_OUT)/%.skel.h,$(wildcard bpf/*.bpf.c))
# bpf/bpf.h would shadow libbpf's <bpf/bpf.h> under -I.: bpf/ and its test use -iquote . instead.
BPF_USER_CFLAGS = $(filter-out -I.,$(CFLAGS)) -iquote . -I$(BPF_OUT)

$(BPF_OUT)/vmlinux.h:
	@mkdir -p $(dir $@)
	@echo "  BTF     $@"
	@$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

# -g makes the BTF that CO-RE and bpftool need; the DWARF beside it is stripped
# (it would be most of the skeleton's embedded object).
$(BPF_OUT)/%.bpf.o: bpf/%.bpf.c bpf/layout.h bpf/vip.bpf.h $(BPF_OUT)/vmlinux.h
	@echo "  BPF     $<"
	@$(CLANG) -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_$(BPF_ARCH) -I$(BPF_OUT) \
		-iquote . -c $< -o $@
	@$(LLVM_STRIP) -g $@

$(BPF_OUT)/%.skel.h: $(BPF_OUT)/%.bpf.o
	@echo "  SKEL    $@"
	@$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

$(call obj,bpf): CFLAGS := $(BPF_USER_CFLAGS)
$(call obj,bpf): $(BPF_SKELS)

# As root against the real kernel: build/test/bpf_test (see tests/bpf/test_bpf.c).
bpf-test: $(BUILD)/test/bpf_test
$(BUILD)/test/bpf_test: tests/bpf/test_bpf.c $(LIB_bpf) $(LIB_common)
	@mkdir -p $(dir $@)
	$(CC) $(BPF_USER_CFLAGS) $^ -o $@ $(PKG_LIBS)

# The VIP table and programs against the real kernel, as root, in a cgroup of its own:
# build/test/bpf_vip_test (see tests/bpf/test_vip.c).
.PHONY: bpf-vip-test
bpf-vip-test: $(BUILD)/test/bpf_vip_test
	$(BUILD)/test/bpf_vip_test
$(BUILD)/test/bpf_vip_test: tests/bpf/test_vip.c $(LIB_bpf) $(LIB_common)
	@mkdir -p $(dir $@)
	$(CC) $(BPF_USER_CFLAGS) $^ -o $@ $(PKG_LIBS)

# --isolated against the real kernel, as root: a bridge acri<pid>, three slices in namespaces
# it makes with iproute2, addresses from 198.18.0.0/15 only.  Builds build/test/bpf_isolate_test
# and runs it.
.PHONY: bpf-isolate-test
bpf-isolate-test: $(BUILD)/test/bpf_isolate_test
	$(BUILD)/test/bpf_isolate_test
$(BUILD)/test/bpf_isolate_test: tests/bpf/test_isolate.c tests/bpf/slices.c $(LIB_bpf) $(LIB_common)
	@mkdir -p $(dir $@)
	$(CC) $(BPF_USER_CFLAGS) $^ -o $@ $(PKG_LIBS)

# ---- tests ------------------------------------------------------------------

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/test/%,$(UNIT_SRCS))
SAN_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/test-san/%,$(UNIT_SRCS))
UNIT_LIBS  := $(PKG_LIBS) $(shell pkg-config --libs cmocka 2>/dev/null)
# What unit tests link besides themselves: the pure modules (an archive
# member is only pulled in when a test uses it, so each links what it needs).
UNIT_MODULES := controller proto common
UNIT_ARCHIVES := $(foreach m,$(UNIT_MODULES),$(BUILD)/lib/libacre-$(m).a)
SAN_ARCHIVES  := $(foreach m,$(UNIT_MODULES),$(BUILD)/lib-san/libacre-$(m).a)
san_obj = $(patsubst %.c,$(BUILD)/obj-san/%.o,$(filter-out $(1)/main.c,$(call src,$(1))))

$(BUILD)/obj-san/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-SAN  $<"
	@$(CC) $(filter-out -O2 -D_FORTIFY_SOURCE=2,$(CFLAGS)) $(SAN_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/lib-san/libacre-%.a: $$(call san_obj,$$*)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# A unit test links the pure modules' archives, and TEST_SRCS_<test>: the pure
# files of a module that has kernel-facing parts too (no libnl, no socket, no kernel).
TEST_SRCS_test_vip := bpf/vip_slots.c supervisor/vip_msg.c
TEST_SRCS_test_health_verdict := supervisor/health_verdict.c
TEST_SRCS_test_log_tail := supervisor/log_tail.c
TEST_SRCS_test_metrics_text := supervisor/metrics_text.c
TEST_SRCS_test_ipam := netns/cidr.c netns/config.c netns/ipam.c
TEST_SRCS_test_cli_render := cli/render.c cli/slice_shape.c
TEST_SRCS_test_cli_app := cli/app_flags.c cli/app_names.c cli/run_flags.c cli/run_checks.c \
	cli/render.c
TEST_SRCS_test_slice_signal := supervisor/slice_ops_signal.c
TEST_SRCS_test_claim_secrets := isolation/init/claim_decode.c
TEST_SRCS_test_dns_zone := supervisor/dns_zone.c supervisor/dns_answer.c supervisor/dns_cache.c
TEST_SRCS_test_pool_net_msg := supervisor/pool_net_msg.c netns/cidr.c
TEST_SRCS_test_binaries := supervisor/binaries.c

$(BUILD)/test/%: tests/unit/%.c $$(TEST_SRCS_$$*) $(UNIT_ARCHIVES)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(filter %.c,$^) $(UNIT_ARCHIVES) -o $@ $(UNIT_LIBS)

$(BUILD)/test-san/%: tests/unit/%.c $$(TEST_SRCS_$$*) $(SAN_ARCHIVES)
	@mkdir -p $(dir $@)
	@echo "  LD      $@ (ASan, UBSan)"
	@$(CC) $(filter-out -O2 -D_FORTIFY_SOURCE=2,$(CFLAGS)) $(SAN_FLAGS) $(filter %.c,$^) \
		$(SAN_ARCHIVES) -o $@ $(UNIT_LIBS)

# netns/ as root against the real kernel: a bridge acrt<pid>, slices in namespaces it makes,
# addresses from 198.18.0.0/15 only.  Builds build/test/netns_test and runs it.
.PHONY: netns-test
netns-test: $(BUILD)/test/netns_test
	$(BUILD)/test/netns_test
$(BUILD)/test/netns_test: tests/netns/test_netns.c $(LIB_netns) $(LIB_common)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(PKG_LIBS)

# The pool's routes and VXLAN overlay (netns/route.c, vxlan.c, uplink.c) as root against the
# real kernel, in a network namespace of the test's own: nothing of the host's is touched.
.PHONY: pool-routes-test
pool-routes-test: $(BUILD)/test/pool_routes_test
	$(BUILD)/test/pool_routes_test
$(BUILD)/test/pool_routes_test: tests/netns/test_pool_routes.c $(LIB_netns) $(LIB_common)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(PKG_LIBS)

unit: $(UNIT_BINS) $(SAN_BINS)

# bpf/ and netns/ against the real kernel, as root (make check runs each: tests/run-check.sh).
KERNEL_TESTS := $(BUILD)/test/bpf_test $(BUILD)/test/bpf_vip_test $(BUILD)/test/bpf_isolate_test \
		$(BUILD)/test/netns_test $(BUILD)/test/pool_routes_test

check: all unit fuzz-build $(KERNEL_TESTS) $(SUPERVISOR_NEXT) $(CONTROLLER_NEXT)
	@tests/run-check.sh

integration: all $(SUPERVISOR_NEXT) $(CONTROLLER_NEXT)
	@tests/run-integration.sh tests/integration/test_*.sh

vm-check: all
	@tests/vm/run.sh -- tests/run-integration.sh $$(grep -v '^#' tests/vm/tests.list | grep .)

# ---- Debian packages ----------------------------------------------------------
# build/deb/{acre,acre-supervisor,acre-controller}_VERSION_ARCH.deb with
# dpkg-buildpackage and debhelper, version from the tree (debian/version.sh),
# checked by lintian.  debian/README.Debian says what they install.
DEB_OUT := $(BUILD)/deb
deb:
	@debian/build-packages.sh $(DEB_OUT)

# The packages installed, upgraded and purged on a booted Debian 12 guest
# (systemd as PID 1, pure cgroup v2), under qemu; tests/vm/README.md.
vm-install-test: deb
	@tests/vm/install-test.sh $(DEB_OUT)

# ---- fuzzing ------------------------------------------------------------------
# libFuzzer targets (clang -fsanitize=fuzzer,address,undefined), one per input
# that comes from outside: tests/fuzz/fuzz_NAME.c, seeds in tests/fuzz/corpus/NAME/.
# Each target is built from the sources it exercises (FUZZ_SRCS_NAME).
# `make fuzz` runs each for FUZZ_SECONDS (new inputs kept in build/fuzz/corpus/);
# `make check` replays the seed corpora (tests/fuzz/run.sh --replay).
FUZZ_SECONDS ?= 60
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -fno-omit-frame-pointer \
	       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	       $(filter-out -Wno-format-truncation,$(WARN)) -I. $(PKG_CFLAGS)
FUZZ_SRCS_spec := $(call src,common)
FUZZ_SRCS_line := $(call src,proto) $(call src,common)
FUZZ_SRCS_envelope := $(FUZZ_SRCS_line)
FUZZ_SRCS_placement := $(FUZZ_SRCS_line)
FUZZ_SRCS_claim := isolation/init/claim_decode.c proto/fds.c common/error.c
FUZZ_SRCS_http := $(filter-out controller/main.c,$(controller_src)) $(FUZZ_SRCS_line)
FUZZ_SRCS_dns := supervisor/dns_zone.c supervisor/dns_answer.c supervisor/dns_cache.c $(call src,common)
FUZZ_SRCS_pool_net := supervisor/pool_net_msg.c netns/cidr.c $(call src,common)
# Packages expand into app specs, whose ports ask the pool: the controller's code, as for http.
FUZZ_SRCS_pkg := $(FUZZ_SRCS_http)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRCS_$$*)
	@mkdir -p $(dir $@)
	@echo "  FUZZ-LD $@"
	@$(CLANG) $(FUZZ_CFLAGS) $^ -o $@ $(PKG_LIBS)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	@tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) $(FUZZ_NAMES)

# ---- operating ----------------------------------------------------------------

# nginx, prometheus and the shipped packages' daemons (redis, memcached,
# haproxy, postgresql, mariadb, rabbitmq, zookeeper, etcd) are daemons whose
# packages start them as services of the machine; acre only runs them in
# its slices.
# A policy-rc.d that exits 101 ("action forbidden") makes invoke-rc.d and
# deb-systemd-invoke start nothing during the install.  A machine's own
# policy-rc.d that refuses already is left alone; any other is moved aside
# and put back afterwards.
POLICY_RC := /usr/sbin/policy-rc.d
deps:
	apt-get update -qq
	@set -e; \
	if [ -x $(POLICY_RC) ] && { $(POLICY_RC) nginx start; [ $$? = 101 ]; }; then \
		restore=:; \
	else \
		[ ! -e $(POLICY_RC) ] || mv $(POLICY_RC) $(POLICY_RC).acre-deps; \
		printf '#!/bin/sh\n# make deps (acre): no service starts during its install\nexit 101\n' \
			>$(POLICY_RC); \
		chmod 0755 $(POLICY_RC); \
		restore='rm -f $(POLICY_RC); [ ! -e $(POLICY_RC).acre-deps ] || mv $(POLICY_RC).acre-deps $(POLICY_RC)'; \
	fi; \
	trap "$$restore" EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEPS)

run: all
	@tests/run-demo.sh

bench: all $(BENCH_POOL) $(BENCH_VIP_CONN)
	@bench/run-all.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/acre \
		$(DESTDIR)/etc/systemd/system $(DESTDIR)$(PREFIX)/share/doc/acre
	install -m 0755 $(BUILD)/bin/acre $(BUILD)/bin/acre-supervisor $(BUILD)/bin/acre-controller \
		$(DESTDIR)$(PREFIX)/bin/
	install -m 0755 $(BUILD)/bin/acre-init $(DESTDIR)$(PREFIX)/libexec/acre/
	install -m 0644 supervisor/acre-supervisor.service $(DESTDIR)/etc/systemd/system/
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/acre/
	getent group acre >/dev/null || groupadd --system acre

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Each binary's modules (what it links), for the duplicate-symbol check.
BIN_MODULES_acre := cli proto common
BIN_MODULES_acre-supervisor := supervisor isolation netns bpf proto common
BIN_MODULES_acre-controller := controller proto common
# (every source of each module, subfolders included, but acre-init's own isolation/init/)
bin_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out %.bpf.c,$(shell find \
	$(BIN_MODULES_$(1)) -name '*.c' -not -path 'isolation/init/*')))

.PHONY: symbols format-check
# No global symbol defined in two of a binary's modules (tests/check-symbols.sh says why).
symbols: all
	@tests/check-symbols.sh $(foreach b,acre acre-supervisor acre-controller,$(b): $(call bin_objs,$(b)) --)

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') && echo "format: clean"

lint: symbols format-check
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr -I. -D_GNU_SOURCE --suppress=missingIncludeSystem \
		--library=$(CURDIR)/.cppcheck-jansson.cfg \
		$(MODULES)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/obj-san $(BUILD)/obj-next -name '*.d' 2>/dev/null)
