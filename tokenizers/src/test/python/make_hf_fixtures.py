"""Regenerates the reference fixtures of the tokenizers module's tests.

The Java tests compare against these files and never run Python; run this script only to
regenerate them (for example after changing the texts below), from the repository root:

    python3 -m venv /tmp/tokvenv
    /tmp/tokvenv/bin/pip install tokenizers transformers sentencepiece protobuf
    /tmp/tokvenv/bin/python tokenizers/src/test/python/make_hf_fixtures.py [path/to/shared]

It reads ../shared (or the given folder) and writes, under tokenizers/src/test/resources/:

hf/llama2-tokenizer.json.gz
    The Llama 2 tokenizer.model converted to tokenizer.json by transformers'
    LlamaTokenizerFast with that class's default (legacy) settings, gzipped.
hf/llama2-metaspace.cases.json
    Ids that the Hugging Face `tokenizers` library gives for that file (no special tokens added).
hf/llama2-prepend-normalizer.cases.json
    The same model with the older layout that many Llama 2 / Mistral repositories ship (normalizer
    Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer): the layout is stored as "overrides"
    of the converted file's top-level keys, so that the large vocabulary is stored only once.
hf/bytelevel-llama3-style.json, hf/bytelevel-gpt2-style.json (+ .cases.json)
    A small byte-level BPE trained with `tokenizers` on WikiText-2 valid.txt, in two pipelines:
    Llama 3 style (Split on Llama 3's regex, ByteLevel without regex, ignore_merges) and GPT-2
    style (NFC normalizer, ByteLevel with its own regex and a prefix space, added tokens with
    lstrip / single_word / normalized set).
sentencepiece/small-bpe.model (+ .cases.json)
    A small SentencePiece BPE model trained with `sentencepiece` without byte fallback, with
    user-defined symbols, remove_extra_whitespaces and a few pieces marked UNUSED: the paths that
    the Llama 2 model does not exercise. Its ids come from the sentencepiece library.

texts.json
    {"texts": [...]}: the 206 texts of shared/tokenizers/llama2/reference_ids.json, edge cases, and
    300 more WikiText-2 test lines; stored once for all cases files.

Every cases file is {"tokenizer": resource, "description": ..., ["overrides": {...}],
"cases": [{"ids", ["decoded"]}]}: cases[i] belongs to texts[i]; "decoded" is the library's decode
of "ids" (special tokens skipped), left out where it equals the text.
"""

import gzip
import json
import os
import shutil
import sys
import tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
from tokenizers import pre_tokenizers, trainers
from transformers import LlamaTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
RESOURCES = os.path.join(MODULE, "src", "test", "resources")
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(MODULE, "..", "..", "shared")

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Texts that the WikiText lines do not cover: special tokens, whitespace runs, contractions,
# digits, decomposed accents (NFC), scripts without merges, emoji, empty input.
EDGE_CASES = [
    "",
    " ",
    "   ",
    "a  b   c",
    "  trailing and leading  ",
    "line one\nline two\r\nline three\n\n\nend",
    "\ttab first",
    "<s>Hello</s> world",
    "Hello <s> world</s>",
    "<s><s></s>",
    "<|begin_of_text|>Once upon a time<|end_of_text|>",
    "text<|endoftext|>more text <|endoftext|> end",
    "a <mask> b<mask>c   <mask>",
    "Valkyria Chronicles and Valkyrias and the Valkyria",
    "I'm sure you'll see it's DON'T WE'LL THEY'RE",
    "1234567890 3.14159 2,000,000 1e-9",
    "cafe\u0301 vs caf\u00e9, A\u030a vs \u00c5",
    "\u6771\u4eac\u90fd \u0645\u0631\u062d\u0628\u0627 \u0928\u092e\u0938\u094d\u0924\u0947 \u03b1\u03b2\u03b3",
    "emoji \U0001f680\U0001f468\u200d\U0001f469\u200d\U0001f467 and \u2603\ufe0f",
    "\u2581already\u2581escaped \u2581",
    "@-@ <sep> @-@@-@ <sep><sep>",
    "non\u00a0breaking\u2003em space\u3000ideographic",
]


def read_reference_texts():
    with open(os.path.join(SHARED, "tokenizers", "llama2", "reference_ids.json"), encoding="utf-8") as f:
        return [case["text"] for case in json.load(f)["cases"]]


def wikitext_lines(skip, count):
    with open(os.path.join(SHARED, "data", "wikitext-2", "test.txt"), encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    return lines[skip:skip + count]


def write_json(relative_path, value):
    """Writes JSON, gzipped when the path ends with .gz (mtime 0: same input, same bytes)."""
    path = os.path.join(RESOURCES, relative_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
    if path.endswith(".gz"):
        with open(path, "wb") as f:
            f.write(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def case(text, ids, decoded):
    return {"ids": ids} if decoded == text else {"ids": ids, "decoded": decoded}


def hf_cases(tokenizer, texts):
    cases = []
    for text in texts:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        cases.append(case(text, ids, tokenizer.decode(ids, skip_special_tokens=True)))
    return cases


def make_llama2_fixtures(texts):
    with tempfile.TemporaryDirectory() as source, tempfile.TemporaryDirectory() as converted:
        shutil.copy(os.path.join(SHARED, "tokenizers", "llama2", "tokenizer.model"), source)
        LlamaTokenizerFast.from_pretrained(source).save_pretrained(converted)
        with open(os.path.join(converted, "tokenizer.json"), encoding="utf-8") as f:
            converted_json = json.load(f)

    write_json("hf/llama2-tokenizer.json.gz", converted_json)
    layouts = [
        ("llama2-metaspace", "Llama 2 tokenizer.model converted by transformers' "
         f"LlamaTokenizerFast (pre_tokenizer {converted_json['pre_tokenizer']})", None),
        ("llama2-prepend-normalizer", "Llama 2 with the Prepend + Replace normalizer layout of "
         "older conversions", {
             "normalizer": {"type": "Sequence", "normalizers": [
                 {"type": "Prepend", "prepend": "\u2581"},
                 {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
             ]},
             "pre_tokenizer": None,
         }),
        ("llama2-metaspace-split", "Llama 2 with Metaspace splitting words, prepend_scheme "
         "always", {
             "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581",
                               "prepend_scheme": "always", "split": True},
         }),
    ]
    for name, description, overrides in layouts:
        tokenizer = Tokenizer.from_str(json.dumps({**converted_json, **(overrides or {})}))
        cases_file = {"tokenizer": "hf/llama2-tokenizer.json.gz", "description": description}
        if overrides:
            cases_file["overrides"] = overrides
        cases_file["cases"] = hf_cases(tokenizer, texts)
        write_json(f"hf/{name}.cases.json.gz", cases_file)


def train_byte_level():
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=2000, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train([os.path.join(SHARED, "data", "wikitext-2", "valid.txt")], trainer)
    return tokenizer


def make_byte_level_fixtures(texts):
    trained = train_byte_level()

    llama3_style = Tokenizer.from_str(trained.to_str())
    llama3_style.add_special_tokens(["<|begin_of_text|>", "<|end_of_text|>"])
    llama3_json = json.loads(llama3_style.to_str())
    llama3_json["model"]["ignore_merges"] = True
    save_byte_level("bytelevel-llama3-style", llama3_json, texts,
                    "Split(Llama 3 regex, Isolated) + ByteLevel(use_regex=false), ignore_merges")

    gpt2_style = Tokenizer.from_str(trained.to_str())
    gpt2_style.normalizer = normalizers.NFC()
    gpt2_style.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    gpt2_style.add_special_tokens(["<|endoftext|>", AddedToken("<mask>", lstrip=True, special=True)])
    gpt2_style.add_tokens([AddedToken("<sep>", rstrip=True, normalized=False)])
    gpt2_style.add_tokens([AddedToken("Valkyria", single_word=True, normalized=True)])
    save_byte_level("bytelevel-gpt2-style", json.loads(gpt2_style.to_str()), texts,
                    "NFC + ByteLevel(add_prefix_space, GPT-2 regex), added tokens with options")


def save_byte_level(name, tokenizer_json, texts, description):
    write_json(f"hf/{name}.json", tokenizer_json)
    tokenizer = Tokenizer.from_str(json.dumps(tokenizer_json))
    write_json(f"hf/{name}.cases.json.gz", {
        "tokenizer": f"hf/{name}.json",
        "description": description,
        "cases": hf_cases(tokenizer, texts),
    })


def make_pre_tokenizer_fixtures():
    texts = ["How are you doing?", "  leading and trailing  ", "a,,b  c!!", "no-delimiters",
             "\u00fcn\u00efc\u00f6d\u00e9 w\u00f6rds, \u6771\u4eac!", "tabs\tand\nnew  lines ", ""]
    steps = []
    for behavior in ["removed", "isolated", "merged_with_previous", "merged_with_next",
                     "contiguous"]:
        for invert in [False, True]:
            steps.append(pre_tokenizers.Split(Regex(r"\w+|[^\w\s]+"), behavior, invert))
            steps.append(pre_tokenizers.Split(" ", behavior, invert))
    for scheme in ["always", "first", "never"]:
        for split in [False, True]:
            steps.append(pre_tokenizers.Metaspace(prepend_scheme=scheme, split=split))
    for add_prefix_space in [False, True]:
        for use_regex in [False, True]:
            steps.append(pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space,
                                                  use_regex=use_regex))
    cases = []
    for step in steps:
        holder = Tokenizer(models.BPE())
        holder.pre_tokenizer = step
        step_json = json.loads(holder.to_str())["pre_tokenizer"]
        for text in texts:
            pieces = [piece for piece, _ in step.pre_tokenize_str(text)]
            cases.append({"pre_tokenizer": step_json, "text": text, "pieces": pieces})
    write_json("hf/pre-tokenizers.json.gz", {"cases": cases})


def make_sentencepiece_fixtures(texts):
    with tempfile.TemporaryDirectory() as work:
        prefix = os.path.join(work, "small")
        spm.SentencePieceTrainer.train(
            input=os.path.join(SHARED, "data", "wikitext-2", "valid.txt"), model_prefix=prefix,
            vocab_size=800, model_type="bpe", character_coverage=0.995, byte_fallback=False,
            user_defined_symbols=["<sep>", "@-@"], normalization_rule_name="identity",
            remove_extra_whitespaces=True, minloglevel=2)
        proto = sentencepiece_model_pb2.ModelProto()
        with open(prefix + ".model", "rb") as f:
            proto.ParseFromString(f.read())

    # Marking merged pieces UNUSED makes the library split them back into their halves.
    normal = sentencepiece_model_pb2.ModelProto.SentencePiece.NORMAL
    unused = sentencepiece_model_pb2.ModelProto.SentencePiece.UNUSED
    candidates = [p for p in proto.pieces if p.type == normal and len(p.piece) >= 3]
    for piece in candidates[::40][:8]:
        piece.type = unused
    model_bytes = proto.SerializeToString()

    path = os.path.join(RESOURCES, "sentencepiece", "small-bpe.model")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(model_bytes)
    print(f"wrote {path} ({len(model_bytes)} bytes)")

    processor = spm.SentencePieceProcessor(model_proto=model_bytes)
    cases = []
    for text in texts:
        ids = processor.encode(text)
        cases.append(case(text, ids, processor.decode(ids)))
    write_json("sentencepiece/small-bpe.cases.json.gz", {
        "tokenizer": "sentencepiece/small-bpe.model",
        "description": "small SentencePiece BPE: no byte fallback, user-defined symbols, "
                       "remove_extra_whitespaces, UNUSED pieces "
                       + ", ".join(p.piece for p in proto.pieces if p.type == unused),
        "cases": cases,
    })


def main():
    # The byte-level fixtures use all texts, the others the first `short` ones (their vocabularies
    # are larger, so the extra lines would add size but little coverage).
    texts = read_reference_texts() + EDGE_CASES
    short = len(texts)
    texts += wikitext_lines(200, 300)
    write_json("texts.json.gz", {"texts": texts})
    make_llama2_fixtures(texts[:short])
    make_byte_level_fixtures(texts)
    make_pre_tokenizer_fixtures()
    make_sentencepiece_fixtures(texts[:short])


if __name__ == "__main__":
    main()
