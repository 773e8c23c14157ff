"""FlexiBERT as a transformers model, after transformers' own model tests: output flags, tuples vs
ModelOutput, gradient checkpointing, the task heads, save/load giving the same outputs, Auto classes."""
import subprocess
import sys

import torch
from transformers import AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification

from tfnas.search_spaces.nas_bench_bert import (FlexiBertConfig, FlexiBertForMaskedLM,
                                                FlexiBertForSequenceClassification, FlexiBertModel)

LAYERS = [
    dict(operation_type="SA", operation_parameter="SDP", num_operation_heads=2, feed_forward_dimension=12, num_feed_forward=1),
    dict(operation_type="LT", operation_parameter="DCT", num_operation_heads=2, feed_forward_dimension=12, num_feed_forward=1),
    dict(operation_type="DSC", operation_parameter=5, num_operation_heads=4, feed_forward_dimension=12, num_feed_forward=2),
]


def config(**kw):
    return FlexiBertConfig(hidden_size=16, encoder_layers=LAYERS, embedding_size=8, vocab_size=40,
                           max_position_embeddings=32, **kw)


def inputs(b=2, t=7):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 40, (b, t), generator=g)
    mask = torch.ones(b, t, dtype=torch.long)
    mask[1, 5:] = 0
    return ids, mask


def test_output_flags_and_tuples():
    torch.manual_seed(0)
    model = FlexiBertModel(config()).eval()
    ids, mask = inputs()
    with torch.no_grad():
        plain = model(ids, attention_mask=mask)
        full = model(ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
        as_tuple = model(ids, attention_mask=mask, output_hidden_states=True, output_attentions=True, return_dict=False)
    assert plain.hidden_states is None and plain.attentions is None
    assert len(full.hidden_states) == 4 and full.hidden_states[0].shape == (2, 7, 16)
    torch.testing.assert_close(full.hidden_states[-1], plain.last_hidden_state)
    sa, lt, dsc = full.attentions
    assert sa.shape == (2, 2, 7, 7) and lt is None and dsc.shape == (2, 2, 7, 7)
    torch.testing.assert_close(sa.sum(-1), torch.ones(2, 2, 7))
    assert float(sa[1, :, :, 5:].abs().max()) == 0.0  # padded keys get no attention
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 3
    torch.testing.assert_close(as_tuple[0], plain.last_hidden_state)
    model.config.output_hidden_states = True  # config defaults apply when the call does not say
    assert len(model(ids).hidden_states) == 4


def test_gradient_checkpointing_gives_the_same_gradients():
    grads = []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        model = FlexiBertForMaskedLM(config(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
        if checkpointing:
            getattr(model, "activation_checkpointing_enable", model.gradient_checkpointing_enable)()
            assert model.flexibert.gradient_checkpointing
        model.train()
        ids, mask = inputs()
        model(ids, attention_mask=mask, labels=ids).loss.backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and len(grads[0]) > 10
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], msg=name)


def test_heads_losses_and_save_load(tmp_path):
    ids, mask = inputs()
    torch.manual_seed(0)
    mlm = FlexiBertForMaskedLM(config()).eval()
    labels = ids.clone()
    labels[:, ::2] = -100
    out = mlm(ids, attention_mask=mask, labels=labels)
    assert out.logits.shape == (2, 7, 40)
    keep = labels != -100
    expected = torch.nn.functional.cross_entropy(out.logits[keep], labels[keep])
    torch.testing.assert_close(out.loss, expected)
    loss, logits = mlm(ids, attention_mask=mask, labels=labels, return_dict=False)
    torch.testing.assert_close(logits, out.logits)

    cls = FlexiBertForSequenceClassification(config(num_labels=3)).eval()
    single = cls(ids, attention_mask=mask, labels=torch.tensor([0, 2]))
    assert single.logits.shape == (2, 3) and cls.config.problem_type == "single_label_classification"
    multi = FlexiBertForSequenceClassification(config(num_labels=3)).eval()(ids, labels=torch.tensor([[1.0, 0, 1], [0, 0, 1]]))
    assert multi.loss > 0
    regressor = FlexiBertForSequenceClassification(config(num_labels=1)).eval()
    regression = regressor(ids, labels=torch.tensor([0.5, -1.0]))
    assert regression.logits.shape == (2, 1) and regressor.config.problem_type == "regression"
    torch.testing.assert_close(regression.loss, torch.nn.functional.mse_loss(regression.logits.squeeze(-1), torch.tensor([0.5, -1.0])))

    # same inputs, same outputs after save_pretrained / from_pretrained, through the Auto classes too
    mlm.save_pretrained(tmp_path / "mlm")
    with torch.no_grad():
        for loader in (FlexiBertForMaskedLM, AutoModelForMaskedLM):
            again = loader.from_pretrained(tmp_path / "mlm").eval()
            assert type(again) is FlexiBertForMaskedLM
            torch.testing.assert_close(again(ids, attention_mask=mask).logits, out.logits)
        base = AutoModel.from_pretrained(tmp_path / "mlm").eval()  # the encoder out of a head checkpoint
        torch.testing.assert_close(base(ids, attention_mask=mask).last_hidden_state,
                                   mlm.flexibert(ids, attention_mask=mask).last_hidden_state)
        head = AutoModelForSequenceClassification.from_pretrained(tmp_path / "mlm", num_labels=2).eval()
        torch.testing.assert_close(head.flexibert(ids).last_hidden_state, mlm.flexibert(ids).last_hidden_state)


def test_import_tfnas_registers_auto_classes_without_torch():
    code = ("import sys, tfnas\n"
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'import tfnas is not cheap'\n"
            "from transformers import AutoConfig, AutoModelForMaskedLM\n"
            "c = AutoConfig.for_model('flexibert', hidden_size=16, encoder_layers=[])\n"
            "print(type(c).__name__, AutoModelForMaskedLM._model_mapping[type(c)].__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["FlexiBertConfig", "FlexiBertForMaskedLM"]
