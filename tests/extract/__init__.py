"""Tests of the article extractor."""
