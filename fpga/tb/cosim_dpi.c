/* cosim_dpi.c — byte-exact file output for cosim_tb under Verilator.
 * Verilator 5.006's $fwrite("%c", 0) writes nothing, so the response file
 * (binary, full of NUL bytes) is written through these three DPI-C calls. */
#include <stdio.h>

static FILE *resp;

/* Verilator builds this file as C++: keep the C names the DPI expects. */
#ifdef __cplusplus
extern "C" {
#endif
int cosim_open(const char *path);
void cosim_putc(int c);
void cosim_close(void);

int cosim_open(const char *path)
{
    resp = fopen(path, "wb");
    return resp ? 0 : -1;
}

void cosim_putc(int c)
{
    if (resp)
        fputc(c & 0xff, resp);
}

void cosim_close(void)
{
    if (resp)
        fclose(resp);
    resp = NULL;
}

#ifdef __cplusplus
}
#endif
