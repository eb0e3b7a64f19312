/* Semihosting output and exit of the C comparison firmware (startup.c). */
#ifndef MICRORNN_CMSIS_SEMIHOST_H
#define MICRORNN_CMSIS_SEMIHOST_H
void sh_print(const char *text);
void sh_exit(int ok) __attribute__((noreturn));
#endif
