package dev.siteward.policies;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Decides live requests against one policy set at the time of the injected clock, recording uses of
 * rate-limited allow rules when (and only when) the answer is allow.
 *
 * <p>For a set with rate limits, deciding and recording happen under one lock on the rate state, so concurrent
 * requests cannot overrun a limit. The gateway makes a new decider when it swaps in a new set.
 */
public final class PolicyDecider {

    private final PolicySet policies;
    private final Clock clock;
    private final RateLimitState rates;

    /** Creates a decider over {@code policies} using {@code clock} for the time and {@code rates} for limits. */
    public PolicyDecider(PolicySet policies, Clock clock, RateLimitState rates) {
        this.policies = Objects.requireNonNull(policies, "policies");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.rates = Objects.requireNonNull(rates, "rates");
    }

    /** Returns the policy set this decider uses. */
    public PolicySet policies() {
        return policies;
    }

    /** Decides {@code request} now; on allow, counts one use against every matching rate-limited allow rule. */
    public Decision decide(AccessRequest request) {
        PolicyRule.Moment now = new PolicyRule.Moment(clock.instant(), policies.timeZone());
        if (!policies.hasRateLimits()) {
            return policies.evaluate(request, now, rates, null);
        }
        synchronized (rates) {
            List<PolicyRule> allows = new ArrayList<>(2);
            Decision d = policies.evaluate(request, now, rates, allows);
            if (d.allowed()) {
                for (PolicyRule r : allows) {
                    PolicyRule.RateLimit limit = r.conditions().rateLimit();
                    if (limit != null) {
                        rates.record(r.rateKey(request), now.instant, limit.per());
                    }
                }
            }
            return d;
        }
    }

    /** Explains {@code request} now without recording anything. */
    public Explanation explain(AccessRequest request) {
        return policies.explain(request, clock.instant(), rates);
    }
}
