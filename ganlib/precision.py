"""Number precision of training: float32, or bfloat16 where the CPU measured it faster.

bfloat16 keeps float32's range with fewer mantissa bits, and Keras's `mixed_bfloat16`
policy computes the layers in it while the weights stay float32. It only pays where the
hardware multiplies bfloat16 fast, and the CPU's flags alone do not say where that is:

- an AMD EPYC with AVX2 only emulates every bfloat16 operation: about 10x *slower*;
- an AMD EPYC (Zen 4) with `avx512_bf16`: ganlib's DCGAN step 1.20x *faster* (the
  TensorFlow tutorial's loop 1.4x);
- an Intel Xeon with AMX (`amx_bf16`): 1.66x *faster*;
- an Intel Xeon that shows `avx512_bf16` but no AMX (a virtual machine that hides the AMX
  tiles): 0.61x, *slower*, because TensorFlow's oneDNN kernels do the bfloat16
  convolutions well on AMX, not with the AVX-512 instructions alone.

So `--precision auto` (the default) picks bfloat16 only where it measured faster: AMX, or
`avx512_bf16` on an AMD CPU. A resumed run keeps the precision it started with, whatever
machine it resumes on.

A generator keeps its training policy in its .keras file, so one shipped from a bfloat16
machine would be emulated on an AVX2 CPU. `for_this_cpu` (called by
`ganlib.sample.load_generator`) rebuilds such a model in float32 where bfloat16 does not
pay: the same weights, and 1,000 DCGAN digits in 3.3 s instead of 36 s on an AVX2 EPYC.

The discriminator's output and the generator's image stay float32 (`nets.py` gives those
layers `dtype="float32"`), so the losses are computed at full precision either way.

The precision also decides whether XLA compiling pays (`xla_pays`). XLA fuses the step's
many small operations, but its CPU compiler emits its own code for the convolutions
instead of calling oneDNN, the library TensorFlow otherwise hands them to. Where oneDNN
has the faster kernels (bfloat16 on AVX512-BF16 or AMX, float32 on AVX-512), XLA loses.
Measured with `python -m ganlib.bench --variants dcgan --bfloat16`, images/s of the DCGAN:

| CPU | float32, XLA | float32, no XLA | bfloat16, XLA | bfloat16, no XLA |
|---|---|---|---|---|
| AMD EPYC, AVX2 only | 240 | 205 | (emulated: 10x slower) | |
| Intel Xeon, AVX-512 and AMX | 492 | 628 | 519 | 1,042 |
| Intel Xeon, AVX-512 and `avx512_bf16`, no AMX | | 548 | 425 | 332 |
| AMD EPYC (Zen 4), AVX-512 and `avx512_bf16` | | 726 | 569 | 870 |
"""

import os

PRECISIONS = ("auto", "float32", "bfloat16")
# Set to float32 or bfloat16 to fix what "auto" picks on every machine (the test suite
# pins float32, so its numbers do not depend on which CPU runs it).
AUTO_OVERRIDE = "GANLIB_AUTO_PRECISION"
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def _cpuinfo_field(name, path="/proc/cpuinfo"):
    """The value of the first `name : value` line of /proc/cpuinfo ("" where unknown)."""
    try:
        with open(path) as file:
            for line in file:
                if line.startswith(name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cpu_flags(path="/proc/cpuinfo"):
    """The instruction-set flags of this machine's CPU (empty where unknown)."""
    return set(_cpuinfo_field("flags", path).split())


def cpu_vendor(path="/proc/cpuinfo"):
    """e.g. 'AuthenticAMD' or 'GenuineIntel' (empty where unknown)."""
    return _cpuinfo_field("vendor_id", path)


def cpu_description(path="/proc/cpuinfo"):
    """e.g. 'AMD EPYC, 2 cores, AVX2' or '... AVX-512 with bf16': where a time was measured."""
    name = _cpuinfo_field("model name", path) or "unknown CPU"
    flags = cpu_flags(path)
    vectors = ("AMX" if "amx_bf16" in flags else
               "AVX-512 with bf16" if "avx512_bf16" in flags else
               "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2")
    return f"{name}, {os.cpu_count()} cores, {vectors}"


def native_bfloat16(flags=None):
    """True when the CPU has bfloat16 instructions (AVX512-BF16 or AMX)."""
    flags = cpu_flags() if flags is None else flags
    return any(flag in flags for flag in NATIVE_BF16_FLAGS)


def bfloat16_pays(flags=None, vendor=None):
    """True where bfloat16 measured faster than float32: AMX, or AVX512-BF16 on AMD."""
    flags = cpu_flags() if flags is None else flags
    vendor = cpu_vendor() if vendor is None else vendor
    return "amx_bf16" in flags or ("avx512_bf16" in flags and vendor == "AuthenticAMD")


def resolve(precision, flags=None, vendor=None):
    """'auto' -> 'bfloat16' where it pays here, else 'float32'; the others stay as they are."""
    if precision != "auto":
        return precision
    if os.environ.get(AUTO_OVERRIDE) in ("float32", "bfloat16"):
        return os.environ[AUTO_OVERRIDE]
    return "bfloat16" if bfloat16_pays(flags, vendor) else "float32"


def xla_pays(precision, flags=None):
    """Whether XLA speeds the step up here: only float32 on a CPU without AVX-512."""
    flags = cpu_flags() if flags is None else flags
    return precision == "float32" and "avx512f" not in flags


def for_this_cpu(model):
    """A model trained under mixed_bfloat16, rebuilt to compute in float32 where bfloat16
    does not pay on this CPU (the same weights; the model as it is everywhere else).

    Inference needs no float32 master weights, so the rebuilt model computes exactly what
    a float32-trained one with these weights would.
    """
    if resolve("auto") == "bfloat16" or not _computes_in_bfloat16(model):
        return model
    config = _with_float32_policies(model.get_config())
    rebuilt = model.__class__.from_config(config)
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def _computes_in_bfloat16(model):
    return any(getattr(layer, "compute_dtype", None) == "bfloat16" for layer in model.layers)


def _with_float32_policies(config):
    """A model config with every mixed_bfloat16 dtype policy replaced by float32."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy" and \
                config.get("config", {}).get("name") == "mixed_bfloat16":
            return {**config, "config": {**config["config"], "name": "float32"}}
        return {key: _with_float32_policies(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_with_float32_policies(value) for value in config]
    return config


def apply(precision):
    """Set Keras's global dtype policy for the networks built next."""
    import keras

    keras.config.set_dtype_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
