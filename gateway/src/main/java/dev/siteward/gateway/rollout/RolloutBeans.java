package dev.siteward.gateway.rollout;

import dev.siteward.gateway.audit.AuditTrail;
import dev.siteward.gateway.models.ModelRepository;
import dev.siteward.gateway.store.GatewayStore;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.exceptions.ConfigurationException;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires staged rollouts and fleet health, and judges running rollouts on a schedule. */
@Factory
public class RolloutBeans {

    @Singleton
    HealthCriteria healthCriteria(RolloutsConfiguration rollouts, FleetConfiguration fleet) {
        try {
            return new HealthCriteria(rollouts.getMaxErrorRate(), rollouts.getMaxLatencyP95(),
                    rollouts.getMinHealthy(), fleet.getStaleAfter());
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("siteward.rollouts / siteward.fleet: " + e.getMessage());
        }
    }

    @Singleton
    RolloutService rolloutService(GatewayStore store, AuditTrail audit, Clock clock, HealthCriteria criteria,
                                  ModelRepository repository, RolloutsConfiguration config) {
        if (config.getTickInterval() == null || config.getTickInterval().isNegative()
                || config.getTickInterval().isZero()) {
            throw new ConfigurationException("siteward.rollouts.tick-interval must be positive");
        }
        return new RolloutService(store, audit, clock, criteria, (model, version) -> repository
                .storedWithdrawals(model).stream().anyMatch(w -> w.withdrawal().withdraws(version)));
    }

    @Singleton
    RolloutShadows rolloutShadows(GatewayStore store, Clock clock) {
        return new RolloutShadows(store, clock);
    }

    @Singleton
    FleetHealth fleetHealth(GatewayStore store, Clock clock, HealthCriteria criteria) {
        return new FleetHealth(store, clock, criteria);
    }

    /** Judges running rollouts every {@code siteward.rollouts.tick-interval}; state is in the database. */
    @Singleton
    static class RolloutTicker {
        private static final Logger LOG = LoggerFactory.getLogger(RolloutTicker.class);
        private final RolloutService rollouts;

        RolloutTicker(RolloutService rollouts) {
            this.rollouts = rollouts;
        }

        @Scheduled(fixedDelay = "${siteward.rollouts.tick-interval:10s}", initialDelay = "2s")
        void tick() {
            try {
                for (RolloutService.Transition t : rollouts.tick()) {
                    LOG.info("rollout {}: {} at stage {}: {}", t.rolloutId(), t.action(), t.stage() + 1, t.detail());
                }
            } catch (Exception e) {
                LOG.error("judging rollouts failed: {}", e.getMessage(), e);
            }
        }
    }
}
