#include <unistd.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
  usleep(300000);
  for (int i = 0; i < 17; i++) syscall(SYS_getppid);
  char p[64];
  for (int i = 0; i < 5; i++) { snprintf(p, sizeof p, "/nonexistent/tracer-%d", i); open(p, O_RDONLY); }
  for (int i = 0; i < 2; i++) { pid_t c = fork(); if (c == 0) { execl("/bin/true", "true", "a b", "x", (char*)0); _exit(1);} waitpid(c, 0, 0); }
  for (int i = 0; i < 40; i++) { char b[1]; read(-1 - i % 3, b, i * 13); }
  return 0;
}
