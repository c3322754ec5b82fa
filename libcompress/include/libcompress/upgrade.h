/*
 * libcompress/upgrade.h - raising a model's opset (part of the public API; included
 * by libcompress.h, so users write #include <libcompress.h>).
 *
 * Models in the wild are exported at old opsets (PyTorch and Paddle at 9
 * to 12). Some passes need a newer one: quantize-int8's per-channel
 * DequantizeLinear exists from opset 13 on. lc_model_upgrade rewrites every
 * node whose operator changed its signature between the two versions, so
 * the model computes the same at the new opset:
 *  - attributes that became inputs: Clip min/max (11), Pad pads/value (11),
 *    Slice starts/ends/axes (10), TopK k (10), Upsample scales (9), Split
 *    split (13), Squeeze/Unsqueeze axes (13), ReduceSum axes (13), Dropout
 *    ratio (12); they become initializers of the node's graph;
 *  - removed attributes: BatchNormalization spatial (9; spatial=0 is
 *    refused), is_test and consumed_inputs;
 *  - replaced operators: Upsample -> Resize (10; asymmetric coordinates,
 *    floor for nearest, as Upsample computed), Scatter -> ScatterElements
 *    (11);
 *  - changed meaning: Softmax, LogSoftmax and Hardmax (13) over the
 *    flattened trailing dims become Flatten + op + Reshape unless the axis
 *    is the last one; RoiAlign (16) keeps its old coordinate mode;
 *    BatchNormalization (14) drops its unused training outputs.
 * Operators whose changes only added types or optional attributes with the
 * old behaviour as default are left as they are. Subgraphs (If, Loop, Scan
 * bodies) are upgraded too. Nodes of other domains are not touched.
 */
#ifndef LIBCOMPRESS_UPGRADE_H
#define LIBCOMPRESS_UPGRADE_H
#ifndef LIBCOMPRESS_H
#error "include <libcompress.h>, not <libcompress/upgrade.h>"
#endif

/** The oldest default-domain opset lc_model_upgrade starts from. */
#define LC_UPGRADE_MIN_OPSET 7
/** The newest opset lc_model_upgrade upgrades to. */
#define LC_UPGRADE_MAX_OPSET 17

/** Upgrades `m` in place from the default-domain opset it imports to
 *  `opset` (LC_UPGRADE_MIN_OPSET <= from <= opset <= LC_UPGRADE_MAX_OPSET;
 *  from == opset is a no-op), raising the IR version where the new opset
 *  needs it. Leaving IR 3 (which made exporters list every initializer as
 *  a graph input) drops initializers from the graph inputs, so they are
 *  constants again. Returns LC_ERR_UNSUPPORTED when the model imports an opset
 *  below LC_UPGRADE_MIN_OPSET or above `opset`, or a node cannot be
 *  upgraded (an operator the converter does not know, or a use with no
 *  equivalent at the new opset): the message names the node, its op and
 *  both opsets, and the model is then left partly rewritten (upgrade a
 *  copy, lc_model_clone, to keep the original). LC_ERR_INVALID_ARGUMENT for
 *  a target out of range, LC_ERR_NO_MEMORY. Not thread-safe for one
 *  model. */
lc_status lc_model_upgrade(lc_model *m, int64_t opset);

#endif /* LIBCOMPRESS_UPGRADE_H */
