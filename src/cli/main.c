#include <stdio.h>
int main(void) { puts("brume"); return 0; }
