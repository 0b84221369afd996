package com.amazonaws.services.lambda.runtime;

public interface Context {
    String getAwsRequestId();
    int getRemainingTimeInMillis();
}
