package dev.siteward.gateway.store;

/** The database could not be reached or refused an operation; never caused by a client's input. */
public final class StoreException extends Exception {

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
