"""A local GGUF model on llama.cpp (xllamacpp): server start time, prompt processing and generation speed.

Starts the server the way `OPSGRAPH_MODEL=local:PATH` does, for each thread count, and reads llama.cpp's
own timings from the responses: prompt tokens/s over a prompt of `--prompt-tokens` (no prompt cache), and
generated tokens/s over `--gen-tokens` (end of sequence ignored). The 1-minute load average is printed
beside each row: on a shared machine it says more about the figures than anything else.

    .venv/bin/python bench/local_model.py /work/models/qwen2.5-coder-1.5b-instruct-q4.gguf \\
        [--context-size 8192] [--threads 1 2] [--prompt-tokens 1500] [--gen-tokens 64]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import httpx

from agents.models.local import LocalServer, LocalServerSpec, check_gguf

# Varied text, so the tokenizer sees ordinary prose and YAML rather than one repeated token.
_TEXT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 3\n"
    "The checkout service in namespace payments restarts every few minutes; its logs show a connection "
    "refused from the database and the readiness probe failing after the rollout of version 2.4.1. "
)


def _chat(base_url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{base_url}/chat/completions", json=body, timeout=600)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def measure(
    model: Path, context_size: int, threads: int, prompt_tokens: int, gen_tokens: int
) -> dict[str, float]:
    spec = LocalServerSpec(model, context_size=context_size, threads=threads)
    with LocalServer(spec, start_timeout_s=600) as server:
        words = " ".join([_TEXT] * (prompt_tokens // 60 + 1))
        prompt = _chat(
            server.base_url,
            {"messages": [{"role": "user", "content": words}], "max_tokens": 1, "cache_prompt": False},
        )["timings"]
        generation = _chat(
            server.base_url,
            {
                "messages": [{"role": "user", "content": "Write a Kubernetes Deployment for nginx."}],
                "max_tokens": gen_tokens,
                "ignore_eos": True,
                "temperature": 0,
            },
        )["timings"]
    return {
        "start_s": server.start_s,
        "prompt_n": prompt["prompt_n"],
        "prompt_tps": prompt["prompt_per_second"],
        "gen_n": generation["predicted_n"],
        "gen_tps": generation["predicted_per_second"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--context-size", type=int, default=8192)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--prompt-tokens", type=int, default=1500)
    parser.add_argument("--gen-tokens", type=int, default=64)
    args = parser.parse_args()
    model = check_gguf(args.model, setting="model")
    print(f"{model.name}, context {args.context_size}, {os.cpu_count()} CPUs")
    print("threads  start s  prompt tokens  prompt tok/s  generated  gen tok/s  load avg")
    for threads in args.threads:
        row = measure(model, args.context_size, threads, args.prompt_tokens, args.gen_tokens)
        load = os.getloadavg()[0]
        print(
            f"{threads:>7}  {row['start_s']:>7.1f}  {row['prompt_n']:>13.0f}  {row['prompt_tps']:>12.1f}  "
            f"{row['gen_n']:>9.0f}  {row['gen_tps']:>9.1f}  {load:>8.1f}"
        )


if __name__ == "__main__":
    main()
