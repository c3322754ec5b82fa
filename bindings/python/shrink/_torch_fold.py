"""shrink.torch: BatchNorm folded into the Conv / Linear layer that feeds it.

Folded, a BatchNorm costs nothing in the .lcm (its 4 vectors per channel
would otherwise be stored, and on small nets such as DS-CNN they alone can
exceed the byte budget), and retraining fine-tunes the folded weights
directly. The model's eval-mode function is unchanged: with
s = gamma / sqrt(running_var + eps), W' = W * s (per output channel) and
b' = (b - running_mean) * s + beta; the BatchNorm module becomes Identity.

The pairs are found by tracing the forward with torch.fx: a BatchNorm
called once, whose input is the output of a Conv1d / Conv2d / Linear called
once and used by nothing else. A model fx cannot trace is left as it is."""
import torch

BN_TYPES = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)


def _pairs(net, layer_types):
    """[(layer name, BatchNorm name)] that can be folded."""
    try:
        graph = torch.fx.symbolic_trace(net).graph
    except Exception:  # data-dependent control flow etc.: keep the BatchNorms
        return []
    mods = dict(net.named_modules())
    calls = {}
    for node in graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
    out = []
    for node in graph.nodes:
        if node.op != "call_module" or not isinstance(mods.get(node.target), BN_TYPES) or len(node.args) != 1:
            continue
        src = node.args[0]
        if not isinstance(src, torch.fx.Node) or src.op != "call_module" or len(src.users) != 1:
            continue
        layer, bn = mods.get(src.target), mods[node.target]
        if (not isinstance(layer, layer_types) or calls[src.target] != 1 or calls[node.target] != 1
                or bn.running_mean is None or layer.weight.shape[0] != bn.num_features):
            continue
        out.append((src.target, node.target))
    return out


def fold_batchnorm(net, layer_types):
    """Folds every BatchNorm that directly follows one of `layer_types` into
    it, in place (eval-mode statistics). Returns the folded BatchNorm names."""
    mods = dict(net.named_modules())
    pairs = _pairs(net, layer_types)
    with torch.no_grad():
        for lname, bname in pairs:
            layer, bn = mods[lname], mods[bname]
            scale = bn.running_var.double().add(bn.eps).rsqrt()
            if bn.weight is not None:
                scale = scale * bn.weight.double()
            shift = -bn.running_mean.double() * scale
            if bn.bias is not None:
                shift = shift + bn.bias.double()
            w = layer.weight.double() * scale.view(-1, *([1] * (layer.weight.dim() - 1)))
            layer.weight.copy_(w.to(layer.weight.dtype))
            b = shift if layer.bias is None else layer.bias.double() * scale + shift
            if layer.bias is None:
                layer.bias = torch.nn.Parameter(b.to(layer.weight.dtype))
            else:
                layer.bias.copy_(b.to(layer.bias.dtype))
            parent, _, attr = bname.rpartition(".")
            setattr(mods[parent] if parent else net, attr, torch.nn.Identity())
    return [b for _, b in pairs]
