/* libFuzzer target: the guest's serial console, through the monitor (which
 * runs the scanner and the console clock) and through the scanner alone.
 * The first byte sets the chunk size, as the console stream delivers the
 * same bytes in pieces of any size. */
#include <stdint.h>
#include <stdlib.h>

#include "model/evidence.h"
#include "watch/monitor.h"
#include "watch/scanner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = (size_t)data[0] + 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    lg_monitor *mon = NULL;
    if (lg_monitor_new(NULL, 0, &mon) < 0)
        abort();
    lg_scanner *sc = lg_scanner_new();
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        lg_monitor_console(mon, text + off, n);
        lg_scanner_feed(sc, text + off, n);
    }
    lg_scanner_finish(sc);
    if (lg_scanner_hit(sc) != (lg_scanner_title(sc) != NULL))
        abort();
    lg_scanner_free(sc);

    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
    return 0;
}
