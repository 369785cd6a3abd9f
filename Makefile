# citylink — one plain Makefile (style.md §20).
#   make              build/ : citylink (+ the daemons as they land)
#   make SANITIZE=1   the same with ASan+UBSan, into build/san/
#   make test         installs deps, builds with sanitizers, runs every test
#   make bench        normalizer benchmarks (optimised build)
#   make fuzz         libFuzzer targets (clang), FUZZ_SECONDS each
#   make install      PREFIX/DESTDIR honoured
#   make run          the whole platform locally (deploy/run.sh); Ctrl-C stops it

# `make` alone builds everything, whatever rule comes first below.
.DEFAULT_GOAL := all

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
SANITIZE ?= 0
FUZZ_SECONDS ?= 30

PKGS    := libcjson yaml-0.1 libpq zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(WARN) $(PKG_CFLAGS) -I.
LDLIBS  += $(PKG_LIBS) -lm -pthread
# Programs that speak MQTT (common/mqtt*.c) link OpenSSL for TLS to the broker.
MQTT_LIBS := $(shell pkg-config --libs openssl 2>/dev/null)
# The benchmarks' load generator measures a Paho consumer too; Paho ships no .pc file on
# Debian (style.md §20).
PAHO_LIBS := -lpaho-mqtt3as

ifeq ($(SANITIZE),1)
BUILD   ?= build/san
CFLAGS  += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build
endif

NORM_SRC  := $(wildcard normalizer/*.c)
NORM_OBJ  := $(NORM_SRC:%.c=$(BUILD)/%.o)
NORM_LIB  := $(BUILD)/libcitylink-normalizer.a
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
COMMON_LIB := $(BUILD)/libcitylink-common.a
CLI_SRC   := $(wildcard cli/*.c)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
# The alerts library: the engine, CAP rendering and anything else of alerts/ except the
# daemon's entry point (alerts/main.c), so unit tests and benches link it.
ALERTS_SRC := $(filter-out alerts/main.c,$(wildcard alerts/*.c))
ALERTS_OBJ := $(ALERTS_SRC:%.c=$(BUILD)/%.o)
ALERTS_LIB := $(BUILD)/libcitylink-alerts.a
INGEST_SRC := $(wildcard ingest/*.c)
INGEST_OBJ := $(INGEST_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := bench/bench_normalize.c bench/topic_scale.c

# The shipped config files are generated from the option tables (deploy/config_sample.c).
$(BUILD)/config-sample: $(BUILD)/deploy/config_sample.o $(BUILD)/ingest/options.o $(BUILD)/alerts/options.o $(COMMON_LIB) $(NORM_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

config-samples: $(BUILD)/config-sample
	$(BUILD)/config-sample ingest >deploy/config/ingest.conf
	$(BUILD)/config-sample alerts >deploy/config/alerts.conf

# Keep intermediate objects (the test binaries' .o files) so a rebuild relinks only.
.SECONDARY:

.PHONY: all test check-deps unit bench fuzz fuzz-build install clean config-samples run
all: $(BUILD)/citylink $(BUILD)/citylink-ingest $(BUILD)/citylink-alerts $(BUILD)/mqtt-load $(BUILD)/config-sample

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(NORM_LIB): $(NORM_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(COMMON_LIB): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(ALERTS_LIB): $(ALERTS_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/citylink: $(CLI_OBJ) $(ALERTS_LIB) $(COMMON_LIB) $(NORM_LIB)
	$(CC) $(LDFLAGS) $(CLI_OBJ) $(ALERTS_LIB) $(COMMON_LIB) $(NORM_LIB) $(LDLIBS) $(MQTT_LIBS) -o $@

$(BUILD)/citylink-alerts: $(BUILD)/alerts/main.o $(ALERTS_LIB) $(COMMON_LIB) $(NORM_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) $(MQTT_LIBS) -o $@

$(BUILD)/citylink-ingest: $(INGEST_OBJ) $(COMMON_LIB) $(NORM_LIB)
	$(CC) $(LDFLAGS) $(INGEST_OBJ) $(COMMON_LIB) $(NORM_LIB) $(LDLIBS) $(MQTT_LIBS) -o $@

# The load generator and counter used by the benchmarks and the integration tests.
$(BUILD)/mqtt-load: $(BUILD)/bench/mqtt_load.o $(BUILD)/bench/wire_publish.o $(COMMON_LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) $(MQTT_LIBS) $(PAHO_LIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/unit/test.o $(BUILD)/tests/unit/fixture.o $(ALERTS_LIB) $(COMMON_LIB) $(NORM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) $(MQTT_LIBS) -o $@

# The simulator's generator lives in cli/: its unit test links those objects too.
SIM_OBJ := $(addprefix $(BUILD)/cli/,sim.o sim_rules.o sim_values.o example.o)
$(BUILD)/tests/test_sim: $(BUILD)/tests/unit/test_sim.o $(BUILD)/tests/unit/test.o $(BUILD)/tests/unit/fixture.o $(SIM_OBJ) $(COMMON_LIB) $(NORM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) $(MQTT_LIBS) -o $@

check-deps:
	@sh deploy/install-deps.sh

# The whole suite under ASan+UBSan; tests/run.sh prints the closing "N passed, N failed".
test: check-deps
	$(MAKE) SANITIZE=1 all unit
	sh tests/run.sh build/san

unit: $(UNIT_BIN)

# Installs what is missing, builds, and runs broker, database, daemons and simulator
# with private data under ./var (deploy/run.sh says what it starts and what to try).
run:
	sh deploy/run.sh

bench: check-deps
	@# CFLAGS through the environment: on the command line it would replace the flags the
	@# Makefile appends (-std, -I., warnings) instead of being appended to.
	CFLAGS="-O2 -g -DNDEBUG" $(MAKE) SANITIZE=0 BUILD=build/bench build/bench/bench-normalize
	build/bench/bench-normalize tests/corpus bench/payloads schemas
	CFLAGS="-O2 -g -DNDEBUG" $(MAKE) SANITIZE=0 BUILD=build/bench build/bench/bench-rules
	build/bench/bench-rules 1000
	CFLAGS="-O2 -g -DNDEBUG" $(MAKE) SANITIZE=0 BUILD=build/bench build/bench/citylink build/bench/citylink-ingest build/bench/mqtt-load
	CITYLINK_INGEST=build/bench/citylink-ingest MQTT_LOAD=build/bench/mqtt-load sh bench/ingest_bench.sh
	CFLAGS="-O2 -g -DNDEBUG" $(MAKE) SANITIZE=0 BUILD=build/bench build/bench/citylink-alerts
	BUILD=build/bench sh bench/alerts_bench.sh

build/bench/bench-normalize: $(BENCH_SRC) $(COMMON_SRC) $(NORM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BENCH_SRC) $(COMMON_SRC) $(NORM_LIB) $(LDLIBS) $(MQTT_LIBS) -o $@

# Rule evaluation cost per record with 1,000 rules (alerts engine).
build/bench/bench-rules: bench/bench_rules.c $(ALERTS_LIB) $(COMMON_LIB) $(NORM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ $(LDLIBS) $(MQTT_LIBS) -o $@

# libFuzzer needs clang; one target per untrusted-input parser, seeded from the repo.
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -g -O1 -I. $(PKG_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz: check-deps fuzz-build
	sh fuzz/run.sh $(FUZZ_SECONDS)

fuzz-build: build/fuzz/fuzz_normalize build/fuzz/fuzz_schema_load build/fuzz/fuzz_mqtt_wire

build/fuzz/fuzz_normalize: fuzz/fuzz_normalize.c $(COMMON_SRC) $(NORM_SRC)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) fuzz/fuzz_normalize.c $(COMMON_SRC) $(NORM_SRC) $(PKG_LIBS) -lm $(MQTT_LIBS) -o $@

build/fuzz/fuzz_mqtt_wire: fuzz/fuzz_mqtt_wire.c common/mqtt_wire.c common/xmalloc.c common/log.c
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) $^ -o $@

build/fuzz/fuzz_schema_load: fuzz/fuzz_schema_load.c $(NORM_SRC)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) fuzz/fuzz_schema_load.c $(NORM_SRC) $(PKG_LIBS) -lm -o $@

# FHS layout, configs kept on upgrade: see deploy/install.sh for every path.
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: all
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" LOCALSTATEDIR="$(LOCALSTATEDIR)" \
		UNITDIR="$(UNITDIR)" BUILD="$(BUILD)" sh deploy/install.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
