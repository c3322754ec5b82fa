/* Warnings before any work about data that does not look like what the
 * model expects: they cost seconds to print and minutes to miss. */
#ifndef SHRINK_DATA_CHECKS_H
#define SHRINK_DATA_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include <libcompress.h>

/* uint8 data without --mean/--std; a mean/std in pixel units (> 1 for
 * uint8 data scaled to 0..1); float data that already looks normalised
 * (negative values) when --mean/--std normalise it again. */
void check_data_scale(const lc_dataset *d, bool has_mean, double mean, double std);
/* Labels outside 0..classes-1 of the model's first output. */
void check_labels_range(const char *labels_path, const int64_t *labels, int64_t n, const lc_model *m);

#endif
