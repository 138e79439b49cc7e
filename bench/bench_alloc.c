/*
 * Allocation counting for spinat-bench: the link wraps malloc, calloc, realloc and
 * aligned_alloc (bench/meson.build), so a benchmark can show that a hot path allocates
 * nothing: read bench_alloc_count() before and after.
 */
#include "bench.h"

#include <stdlib.h>

static uint64_t allocs;

void *__real_malloc(size_t n);
void *__real_calloc(size_t m, size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t m, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);

void *__wrap_malloc(size_t n)
{
	__atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
	return __real_malloc(n);
}

void *__wrap_calloc(size_t m, size_t n)
{
	__atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
	return __real_calloc(m, n);
}

void *__wrap_realloc(void *p, size_t n)
{
	__atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
	return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
	__atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
	return __real_aligned_alloc(a, n);
}

uint64_t bench_alloc_count(void)
{
	return __atomic_load_n(&allocs, __ATOMIC_RELAXED);
}
