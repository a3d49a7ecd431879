package dev.siteward.gateway.admins;

import dev.siteward.gateway.server.ConnectionTracker;
import dev.siteward.gateway.server.GatewayCredentials;
import dev.siteward.gateway.store.GatewayStore;
import dev.siteward.gateway.store.StoreException;
import dev.siteward.pki.ca.SiteCa;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.exceptions.ConfigurationException;
import jakarta.inject.Singleton;
import java.time.Clock;

/** Wires admin management and the role check; the bootstrap admin is recorded at start-up. */
@Factory
public class AdminBeans {

    @Singleton
    AdminAuthorization adminAuthorization(SiteCa ca) {
        return new AdminAuthorization(ca.registry(), AdminRouteTable.standard());
    }

    @Context
    AdminDirectory adminDirectory(GatewayStore store, SiteCa ca, ConnectionTracker connections,
                                  GatewayCredentials credentials, Clock clock) {
        AdminDirectory admins = new AdminDirectory(store, ca, connections, clock);
        try {
            admins.recordBootstrap(credentials.adminCertificate());
        } catch (StoreException e) {
            throw new ConfigurationException("cannot record the bootstrap admin: " + e.getMessage(), e);
        }
        return admins;
    }
}
