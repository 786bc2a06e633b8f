"""Score a text file written by any model against a corpus: textgan's n-gram JS divergences and the
other text metrics, beside the real-data floor.

    python examples/score_text_file.py [--samples FILE] [--corpus NAME|PATH]

Without --samples it scores a stand-in "other model": lines of the built-in synthetic corpus with
some characters replaced, written to a temporary file (removed afterwards)."""
import argparse
import random
import tempfile
from pathlib import Path

import textgan


def stand_in_samples(path: Path, n: int = 640, seed: int = 0) -> None:
    """Real lines of the built-in corpus, every tenth character replaced by a random letter."""
    rng = random.Random(seed)
    lines = textgan.corpus_lines("synthetic", max_lines=n)
    noisy = ["".join(rng.choice("abcdefghij") if rng.random() < 0.1 else c for c in line) for line in lines]
    path.write_text("\n".join(noisy) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", help="a text file, one generated line per line")
    parser.add_argument("--corpus", default="synthetic", help="corpus name or path (default: synthetic)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        samples = args.samples
        if samples is None:
            samples = Path(tmp) / "other_model.txt"
            stand_in_samples(samples)
        print("the paper's metric:", textgan.ngram_js(samples, args.corpus))
        result = textgan.evaluate_text(samples, args.corpus)
        print(textgan.format_report(result))


if __name__ == "__main__":
    main()
