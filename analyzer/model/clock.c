/*
 * The model's clocks at the crash: the newest rq->clock (ns), jiffies and HZ,
 * read once when the model is built, before any pass dates anything.
 */
#include <stdint.h>

#include "model/build.h"

/* jiffies start at -300 s; the HZ that makes jiffies agree with the ns clock is the kernel's. */
static unsigned int guess_hz(uint64_t jiffies, uint64_t now_ns)
{
	static const unsigned int candidates[] = { 100, 250, 300, 1000 };
	double uptime = (double)now_ns / 1e9, best = 1e18;
	unsigned int hz = 0;

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		unsigned int h = candidates[i];
		uint64_t initial = (uint64_t)(uint32_t)(-300 * (int32_t)h);
		double up = (double)(jiffies - initial) / h, err = up > uptime ? up - uptime : uptime - up;

		if (err < best) {
			best = err;
			hz = h;
		}
	}
	/* Emulated machines lose ticks: allow a wide margin, the candidates are far apart. */
	return best < uptime / 8 + 2 ? hz : 0;
}

/* HZ from the nanoseconds of one tick; 0 for a tick no HZ from 50 to 1000 gives. */
static unsigned int hz_of_tick(uint64_t tick)
{
	return tick >= 1000000 && tick <= 20000000 ? (unsigned int)((1000000000ull + tick / 2) / tick) : 0;
}

void ks_model_load_clocks(struct ks_analysis *a)
{
	struct ks_kernel *k = a->kernel;
	uint64_t addr;

	for (unsigned int c = 0; c < ks_kernel_nr_cpus(k); c++) {
		uint64_t rq, clock;
		enum ks_error_code code;

		if (!ks_kernel_cpu_online(k, c))
			continue;
		/* the newest clock is the crash's: one CPU unread may hide it, so each is a problem */
		code = ks_kernel_runqueue(k, c, &rq) ? ks_read_field_code(k, rq, KS_F_RQ_CLOCK, &clock) : KS_ERR_FAULT;
		if (code)
			ks_problems_add(&a->problems, code, 0, 0, "cannot read the run queue clock of CPU %u (%s): "
					"the uptime may be older than the crash", c, ks_error_code_name(code));
		else if (clock > a->now_ns)
			a->now_ns = clock;
	}
	if (ks_kernel_symbol(k, "jiffies_64", &addr) || ks_kernel_symbol(k, "jiffies", &addr)) {
		enum ks_error_code code = ks_read_code(k, addr, &a->jiffies, sizeof(a->jiffies));

		if (code)
			ks_problems_add(&a->problems, code, 0, addr, "cannot read jiffies (%s): stall ages from "
					"jiffies are unknown", ks_error_code_name(code));
	}
	/* tick_nsec is NSEC_PER_SEC / HZ, give or take NTP's adjustment. */
	if (ks_kernel_symbol(k, "tick_nsec", &addr)) {
		uint64_t tick;

		if (ks_try_read_u64(k, addr, &tick))
			a->hz = hz_of_tick(tick);
	}
	/*
	 * The jiffies clocksource counts one per tick, with mult = NSEC_PER_JIFFY << shift
	 * (kernel/time/jiffies.c): what is left where tick_nsec is gone (7.x).
	 */
	if (!a->hz && ks_kernel_symbol(k, "clocksource_jiffies", &addr)) {
		uint64_t moff, msize, soff, ssize;
		uint32_t mult, shift;

		if (ks_kernel_late_field(k, KS_LF_CLOCKSOURCE_MULT, &moff, &msize) && msize == 4 &&
		    ks_kernel_late_field(k, KS_LF_CLOCKSOURCE_SHIFT, &soff, &ssize) && ssize == 4 &&
		    ks_try_read_u32(k, addr + moff, &mult) && ks_try_read_u32(k, addr + soff, &shift) &&
		    shift < 32)
			a->hz = hz_of_tick((uint64_t)mult >> shift);
	}
	if (!a->hz)
		a->hz = guess_hz(a->jiffies, a->now_ns);
	if (!a->hz)
		ks_problems_add(&a->problems, KS_ERR_LOOKUP, 0, 0, "cannot tell HZ: stall ages from jiffies are unknown");
	if (ks_kernel_symbol(k, "sysctl_hung_task_timeout_secs", &addr)) {
		uint64_t v;

		if (ks_try_read_u64(k, addr, &v) && v < 86400 * 365)
			a->hung_task_timeout = (unsigned long)v;
	}
}
