"""Reads Deploy/.stack/env, the KEY=value file `stack.sh up` writes (values shell-quoted)."""
import shlex
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parent / ".stack" / "env"


def load_env(program, path=ENV_FILE):
    """The settings of the running stack; exits with a hint naming `program` if it is not up."""
    if not path.exists():
        raise SystemExit(f"{program}: {path} not found; run Deploy/stack.sh up first")
    env = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            parts = shlex.split(value)
            env[key.strip()] = parts[0] if parts else ""
    return env
