"""Data layer: corpora -> compact integer arrays [N, seq_len] + a vocabulary.

Public API: load_corpus, corpus_lines, EncodedCorpus, Vocab, build_char_vocab,
list_corpora, show_corpus, prepare_corpus.  Submodules import lazily where
they pull heavy libraries (tokenizers, datasets).
"""
from textgan.data.corpus import (EncodedCorpus, corpus_lines, list_corpora, load_corpus,
                                 prepare_corpus, show_corpus)
from textgan.data.vocab import PAD, UNK_ID, UNK_TEXT, Vocab, build_char_vocab, build_word_vocab

__all__ = ["EncodedCorpus", "corpus_lines", "list_corpora", "load_corpus", "prepare_corpus", "show_corpus",
           "PAD", "UNK_ID", "UNK_TEXT", "Vocab",
           "build_char_vocab", "build_word_vocab"]
