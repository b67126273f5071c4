# The two set-up commands of the README:
#   make demo   install what is missing, build, ingest the bundled plans into vnplan.db, show them
#   make test   install what is missing, run the whole test suite (what .ci/run calls)

APT_PACKAGES := tesseract-ocr tesseract-ocr-vie tesseract-ocr-script-viet libtesseract-dev \
                libleptonica-dev libclang-dev clang pkg-config
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Real plan documents among the fixtures, in every input kind (the broken ones are left to the
# tests: `vnplan ingest fixtures/source/bad` shows how failures are recorded).
DEMO := fixtures/extract/000.txt fixtures/extract/001.txt fixtures/extract/002.txt \
        fixtures/extract/003.txt fixtures/extract/004.txt \
        fixtures/source/borndigital_word.pdf fixtures/source/scan_dct_200dpi.pdf \
        fixtures/source/scan_ccitt_300dpi.pdf fixtures/source/pages_g4.tiff \
        fixtures/source/page_200dpi.jpg fixtures/legacy/plan.tcvn3.txt fixtures/store/plans

.PHONY: setup demo test
setup:
	@command -v cargo >/dev/null || { echo "cargo not found: install the Rust toolchain (rustup) first" >&2; exit 1; }
	@missing="$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done)"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

demo: setup
	cargo build --release --locked
	./target/release/vnplan ingest --db vnplan.db --out out/json $(DEMO)
	./target/release/vnplan query docs --db vnplan.db

test: setup
	cargo test --locked
