# acre: build, test, install.  `make` builds build/bin/{acre,acre-supervisor,acre-init,acre-controller};
# `make check` runs every test; `make deps` installs what a fresh Debian 12 needs.

CC	?= gcc
CLANG	?= clang
BUILD	?= build
PREFIX	?= /usr/local

PKGS	:= libcgroup libseccomp libcap libnl-3.0 libnl-route-3.0 libbpf libevent \
	   libevent_openssl jansson openssl sqlite3
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
	libssl-dev libjansson-dev libsqlite3-dev \
	python3 crun iperf3 prometheus hyperfine busybox-static iproute2 cpio kmod \
	qemu-system-x86 linux-image-amd64

MODULES	:= common isolation netns supervisor controller cli
src	= $(wildcard $(1)/*.c)
obj	= $(patsubst %.c,$(BUILD)/obj/%.o,$(call src,$(1)))

LIB_common	:= $(BUILD)/lib/libacre-common.a
LIB_isolation	:= $(BUILD)/lib/libacre-isolation.a
LIB_netns	:= $(BUILD)/lib/libacre-netns.a
LIB_controller	:= $(BUILD)/lib/libacre-controller.a

BINS := $(BUILD)/bin/acre $(BUILD)/bin/acre-supervisor $(BUILD)/bin/acre-init \
	$(BUILD)/bin/acre-controller

.PHONY: all check unit integration vm-check deps run bench install format lint clean
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
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/acre: $(call obj,cli) $(LIB_controller) $(LIB_common)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)

$(BUILD)/bin/acre-supervisor: $(call obj,supervisor) $(LIB_isolation) $(LIB_netns) \
		$(LIB_controller) $(LIB_common)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)

$(BUILD)/bin/acre-controller: $(call obj,controller) $(LIB_common)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)

# bench/pool: the node simulator and API load of the pool benchmark (make bench).
BENCH_POOL := $(BUILD)/bench/acre-bench-pool
$(BENCH_POOL): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard bench/pool/*.c)) $(LIB_common)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)

# acre-init runs inside any rootfs, which may have no C library: link it statically,
# from the files that build a slice and nothing else.
INIT_SRCS := $(wildcard isolation/init/*.c) netns/loopback.c common/error.c
$(BUILD)/bin/acre-init: $(INIT_SRCS) $(wildcard isolation/*.h netns/*.h common/*.h)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -static $(INIT_SRCS) -o $@ -lcap

# ---- tests ------------------------------------------------------------------

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/test/%,$(UNIT_SRCS))
SAN_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/test-san/%,$(UNIT_SRCS))
UNIT_LIBS  := $(PKG_LIBS) $(shell pkg-config --libs cmocka 2>/dev/null)
# What unit tests link besides themselves: the pure modules (an archive
# member is only pulled in when a test uses it, so each links what it needs).
UNIT_MODULES := controller common
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

$(BUILD)/test/%: tests/unit/%.c $(UNIT_ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(UNIT_ARCHIVES) -o $@ $(UNIT_LIBS)

$(BUILD)/test-san/%: tests/unit/%.c $(SAN_ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -O2 -D_FORTIFY_SOURCE=2,$(CFLAGS)) $(SAN_FLAGS) $< $(SAN_ARCHIVES) \
		-o $@ $(UNIT_LIBS)

unit: $(UNIT_BINS) $(SAN_BINS)

check: all unit
	@tests/run-check.sh

integration: all
	@tests/run-integration.sh tests/integration/test_*.sh

vm-check: all
	@tests/vm/run.sh -- tests/run-integration.sh $$(cat tests/vm/tests.list)

# ---- operating ----------------------------------------------------------------

deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEPS)

run: all
	@tests/run-demo.sh

bench: all $(BENCH_POOL)
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

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr -I. -D_GNU_SOURCE --suppress=missingIncludeSystem \
		--library=$(CURDIR)/.cppcheck-jansson.cfg \
		$(MODULES)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/obj-san -name '*.d' 2>/dev/null)
