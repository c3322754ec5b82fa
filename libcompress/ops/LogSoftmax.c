/* LogSoftmax: opsets 1 to 12 coerce the input to 2-D at `axis` (default 1)
 * and normalize each row; from opset 13 it works along the single axis
 * `axis` (default -1). The shared code is in nn_util.c. */
#include "lc_nn.h"

static lc_status logsoftmax_run(lc_kernel_args *a)
{
    return lc_nn_softmax_run(a, true);
}

const lc_kernel lc_kernel_LogSoftmax_1 = {"LogSoftmax", 1, 1, 0, lc_nn_softmax_prepare, logsoftmax_run, lc_nn_softmax_free, NULL};
const lc_kernel lc_kernel_LogSoftmax_13 = {"LogSoftmax", 13, 1, 0, lc_nn_softmax_prepare, logsoftmax_run, lc_nn_softmax_free, NULL};
