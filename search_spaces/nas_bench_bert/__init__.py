"""NAS-Bench-BERT: the FlexiBERT-style heterogeneous transformer space of Serianni & Kalita (2023)."""
from tfnas.search_spaces.nas_bench_bert.arch import BertArch, EncoderLayer
from tfnas.search_spaces.nas_bench_bert.model import FlexiBertConfig, FlexiBertModel
from tfnas.search_spaces.nas_bench_bert.space import PRESETS, NasBenchBertSpace

__all__ = ["BertArch", "EncoderLayer", "FlexiBertConfig", "FlexiBertModel", "NasBenchBertSpace", "PRESETS"]
