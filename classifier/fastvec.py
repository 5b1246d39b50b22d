"""A faster `transform` for our fitted word n-gram TfidfVectorizer, with identical output.

sklearn's transform spends most of its time in per-token Python calls; this does the same
tokenising, n-gram joining, counting, sublinear tf, idf weighting and l2 normalisation with fewer of
them. Tests assert it equals `TfidfVectorizer.transform` on the whole corpus.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer


class FastWordTfidf:
    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        if vectorizer.analyzer != "word" or vectorizer.ngram_range != (1, 2) or vectorizer.stop_words:
            raise ValueError("FastWordTfidf supports word unigrams and bigrams without stop words only")
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.token = re.compile(vectorizer.token_pattern)
        self.lowercase = bool(vectorizer.lowercase)
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.sublinear = bool(vectorizer.sublinear_tf)
        self.dtype = vectorizer.dtype
        self.width = len(self.idf)
        if vectorizer.norm != "l2" or not vectorizer.use_idf:
            raise ValueError("FastWordTfidf supports l2-normalised tf-idf only")

    def transform(self, docs: list[str]) -> csr_matrix:
        lookup = self.vocabulary.get
        flat: list[int] = []
        lengths: list[int] = []
        for doc in docs:
            tokens = self.token.findall(doc.lower() if self.lowercase else doc)
            grams = tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
            ids = [i for i in map(lookup, grams) if i is not None]
            flat.extend(ids)
            lengths.append(len(ids))
        rows = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        keys, counts = np.unique(rows * self.width + np.asarray(flat, dtype=np.int64), return_counts=True)
        row_of = keys // self.width
        cols = (keys % self.width).astype(np.int32)
        data = counts.astype(np.float64)
        if self.sublinear:
            np.log(data, out=data)
            data += 1.0
        data *= self.idf[cols]
        norms = np.sqrt(np.bincount(row_of, weights=data * data, minlength=len(docs)))
        norms[norms == 0.0] = 1.0
        data /= norms[row_of]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=len(docs)))]).astype(np.int32)
        return csr_matrix((data.astype(self.dtype), cols, indptr), shape=(len(docs), self.width))
