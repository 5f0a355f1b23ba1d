/*
 * The pressure pass: the system's pressure stall information (PSI), as
 * /proc/pressure/{memory,io,cpu} would have shown it at the crash. The kernel
 * folds per-CPU stall times into psi_system every 2 s (psi_avgs_work): the
 * running averages avg[state][10/60/300 s] are percentages in fixed point
 * (FIXED_1 = 1 << 11, as the load average), total[PSI_AVGS][state] the stall
 * time since boot in ns. Both are read as of that last folding, whose time
 * (avg_last_update, on the scheduler clock) says how old they are.
 */
#include <math.h>
#include <string.h>

#include "passes/pass.h"

/* kernel/sched/loadavg.h: FSHIFT 11; psi_show prints LOAD_INT and LOAD_FRAC of the same values */
#define PSI_FIXED_1 2048.0

struct layout {
	uint64_t avg, total, last_update, row_avg, row_total;
	int64_t state[KS_PSI__COUNT][2], avgs;
	bool full[KS_PSI__COUNT];
};

static bool psi_layout(struct ks_kernel *k, struct layout *l)
{
	static const enum ks_enumerator states[KS_PSI__COUNT][2] = {
		[KS_PSI_MEMORY] = { KS_E_PSI_MEM_SOME, KS_E_PSI_MEM_FULL },
		[KS_PSI_IO] = { KS_E_PSI_IO_SOME, KS_E_PSI_IO_FULL },
		[KS_PSI_CPU] = { KS_E_PSI_CPU_SOME, KS_E_PSI_CPU_FULL },
	};
	uint64_t avg_size, total_size, size;
	int64_t max = 0;

	if (!ks_kernel_late_field(k, KS_LF_PSI_GROUP_AVG, &l->avg, &avg_size) ||
	    !ks_kernel_late_field(k, KS_LF_PSI_GROUP_TOTAL, &l->total, &total_size) ||
	    !ks_kernel_enumerator(k, KS_E_PSI_AVGS, &l->avgs))
		return false;
	for (int r = 0; r < KS_PSI__COUNT; r++) {
		if (!ks_kernel_enumerator(k, states[r][0], &l->state[r][0]))
			return false;
		/* CPU full is 5.13+ */
		l->full[r] = ks_kernel_enumerator(k, states[r][1], &l->state[r][1]);
		for (int f = 0; f < 1 + l->full[r]; f++)
			max = l->state[r][f] > max ? l->state[r][f] : max;
	}
	/* avg is unsigned long [states][3], total u64 [aggregators][states]: rows from the sizes */
	l->row_avg = 3 * 8;
	if (avg_size % l->row_avg || max < 0 || (uint64_t)max >= avg_size / l->row_avg)
		return false;
	l->row_total = avg_size / l->row_avg * 8;
	if (l->avgs < 0 || (uint64_t)(l->avgs + 1) * l->row_total > total_size)
		return false;
	if (!ks_kernel_late_field(k, KS_LF_PSI_GROUP_AVG_LAST_UPDATE, &l->last_update, &size) || size != 8)
		l->last_update = UINT64_MAX;
	return true;
}

/* One resource's some or full line; the read's error code, 0 when read. */
static enum ks_error_code read_line(struct ks_kernel *k, uint64_t group, const struct layout *l,
				    int64_t state, struct ks_psi_line *ret)
{
	uint64_t avg[3], total;
	enum ks_error_code code = ks_read_code(k, group + l->avg + (uint64_t)state * l->row_avg, avg, sizeof(avg));

	if (!code)
		code = ks_read_code(k, group + l->total + (uint64_t)l->avgs * l->row_total + 8 * (uint64_t)state,
				    &total, sizeof(total));
	if (code)
		return code;
	ret->avg10 = (double)avg[0] / PSI_FIXED_1;
	ret->avg60 = (double)avg[1] / PSI_FIXED_1;
	ret->avg300 = (double)avg[2] / PSI_FIXED_1;
	ret->total_seconds = (double)total / 1e9;
	ret->known = true;
	return 0;
}

/*
 * The kernel updates each average every 2 s as avg = avg * e + pct * (1 - e),
 * e = exp(-2 s / window) (EXP_10s, EXP_60s, EXP_300s in fixed point), pct the
 * share stalled in those 2 s. A stall at a steady share p that began T ago,
 * with none before, leaves avg_w = p (1 - exp(-T / w)) in each window w: the
 * short window fills first, the long ones later, and their ratios date the
 * onset. The fit tries every T (a 0.5 s grid up to the uptime), takes the p
 * that fits best for it (least squares over the three windows), and keeps the
 * T with the least error; the range is every T whose root-mean-square error is
 * within PSI_FIT_SLACK percentage points of the best (the share is never quite
 * steady). The total stall time bounds it too: a stall at share p for T
 * stalled p T / 100 s, which total_seconds cannot be below.
 */
#define PSI_FIT_SLACK 2.0
#define PSI_FIT_STEP 0.5
#define PSI_FIT_MAX (4 * 3600.0)

static double fit_error(const double avg[3], double t, double *share)
{
	static const double window[3] = { 10, 60, 300 };
	double f[3], num = 0, den = 0, err = 0, p;

	for (int w = 0; w < 3; w++) {
		f[w] = 1 - exp(-t / window[w]);
		num += avg[w] * f[w];
		den += f[w] * f[w];
	}
	p = den > 0 ? num / den : 0;
	p = p > 100 ? 100 : p;
	for (int w = 0; w < 3; w++)
		err += (avg[w] - p * f[w]) * (avg[w] - p * f[w]);
	*share = p;
	return sqrt(err / 3);
}

bool ks_psi_onset(const struct ks_psi_line *l, double up, double *est, double *lo, double *hi, double *share,
		  bool *at_least)
{
	const double avg[3] = { l->avg10, l->avg60, l->avg300 };
	double best = INFINITY, limit = up > 0 && up < PSI_FIT_MAX ? up : PSI_FIT_MAX, p;

	if (!l->known || l->avg10 < KS_PSI_STALL_PCT)
		return false;
	*est = *lo = *hi = limit;
	*share = l->avg10;
	for (double t = PSI_FIT_STEP; t <= limit; t += PSI_FIT_STEP) {
		double e = fit_error(avg, t, &p);

		if (e < best) {
			best = e;
			*est = t;
			*share = p;
		}
	}
	*lo = *hi = *est;
	for (double t = PSI_FIT_STEP; t <= limit; t += PSI_FIT_STEP)
		if (fit_error(avg, t, &p) <= best + PSI_FIT_SLACK) {
			*lo = t < *lo ? t : *lo;
			*hi = t > *hi ? t : *hi;
		}
	/* the stall time since boot: a stall at this share for T has stalled share * T / 100 of it */
	if (*share > 0 && l->total_seconds > 0) {
		double t_total = l->total_seconds * 100 / *share;

		/* below lo the share was not steady, and the averages are the better guide */
		if (t_total >= *lo && t_total < *hi)
			*hi = t_total;
		*est = *est > *hi ? *hi : *est;
	}
	*at_least = *hi >= limit - PSI_FIT_STEP && limit < up;
	return true;
}

enum ks_error_code ks_psi_read_group(struct ks_analysis *a, uint64_t group, struct ks_psi_group *g)
{
	struct ks_kernel *k = a->kernel;
	struct layout l;
	enum ks_error_code code = 0;
	uint64_t last;

	memset(g, 0, sizeof(*g));
	g->updated_seconds_before = -1;
	g->onset = -1;
	if (!psi_layout(k, &l))
		return KS_ERR_LOOKUP;
	for (int r = 0; r < KS_PSI__COUNT && !code; r++) {
		code = read_line(k, group, &l, l.state[r][0], &g->some[r]);
		if (!code && l.full[r])
			code = read_line(k, group, &l, l.state[r][1], &g->full[r]);
	}
	if (code) {
		memset(g->some, 0, sizeof(g->some));
		memset(g->full, 0, sizeof(g->full));
		return code;
	}
	if (l.last_update != UINT64_MAX && ks_pass_read_u64(a, group + l.last_update, &last, "psi_group.avg_last_update") &&
	    a->now_ns && last <= a->now_ns)
		g->updated_seconds_before = (double)(a->now_ns - last) / 1e9;
	return 0;
}

void ks_psi_fit_onset(const struct ks_analysis *a, struct ks_psi_group *g)
{
	/* dated from the last averaging, then moved to the crash */
	double lag = g->updated_seconds_before > 0 ? g->updated_seconds_before : 0;
	double up = a->now_ns ? (double)a->now_ns / 1e9 - lag : 0;

	if (ks_psi_onset(&g->some[KS_PSI_MEMORY], up, &g->onset, &g->onset_min, &g->onset_max, &g->onset_share,
			 &g->onset_at_least)) {
		g->onset += lag;
		g->onset_min += lag;
		g->onset_max += lag;
	} else {
		g->onset = -1;
	}
}

/* False when PSI is built in but off (psi=0, CONFIG_PSI_DEFAULT_DISABLED). */
static bool psi_enabled(struct ks_analysis *a)
{
	struct ks_kernel *k = a->kernel;
	uint64_t disabled, off, size;
	uint32_t on;

	/* psi_disabled is a static key: on when psi=0 or CONFIG_PSI_DEFAULT_DISABLED without psi=1 */
	return !(ks_kernel_symbol(k, "psi_disabled", &disabled) &&
		 ks_kernel_late_field(k, KS_LF_STATIC_KEY_ENABLED, &off, &size) && size == 4 &&
		 ks_try_read(k, disabled + off, &on, sizeof(on)) && on);
}

static struct ks_error *pressure_finish(struct ks_analysis *a, void *ctx)
{
	struct ks_pressure *p = &a->memory.pressure;
	struct layout l;
	uint64_t group;
	enum ks_error_code code;

	(void)ctx;
	memset(p, 0, sizeof(*p));
	p->sys.updated_seconds_before = -1;
	p->sys.onset = -1;
	if (!ks_kernel_symbol(a->kernel, "psi_system", &group) || !psi_layout(a->kernel, &l))
		return NULL;
	if (!psi_enabled(a)) {
		p->state = KS_PSI_DISABLED;
		return NULL;
	}
	p->state = KS_PSI_READ;
	if ((code = ks_psi_read_group(a, group, &p->sys))) {
		p->state = KS_PSI_UNREADABLE;
		ks_problems_add(&a->problems, code, 0, code == KS_ERR_NODATA ? 0 : group,
				"cannot read psi_system: memory, io and cpu pressure unknown");
		return NULL;
	}
	ks_psi_fit_onset(a, &p->sys);
	return NULL;
}

const struct ks_pass ks_pass_pressure = {
	.name = "pressure",
	.finish = pressure_finish,
};
