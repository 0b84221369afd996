package com.example.orders;

import com.amazonaws.regions.Regions;
import com.amazonaws.services.dynamodbv2.AmazonDynamoDB;
import com.amazonaws.services.dynamodbv2.AmazonDynamoDBClientBuilder;
import com.amazonaws.services.dynamodbv2.datamodeling.DynamoDBMapper;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import com.amazonaws.services.sns.AmazonSNS;
import com.amazonaws.services.sns.AmazonSNSClientBuilder;
import java.util.Map;

public class CreateOrder implements RequestHandler<Map<String, String>, String> {
    private static final String BUCKET = System.getenv("RECEIPTS_BUCKET");

    @Override
    public String handleRequest(Map<String, String> order, Context context) {
        AmazonDynamoDB dynamo = AmazonDynamoDBClientBuilder.standard()
                .withRegion(System.getenv("AWS_REGION"))
                .build();
        DynamoDBMapper mapper = new DynamoDBMapper(dynamo);
        mapper.save(order);
        storeReceipt(order);
        // the customer's region decides where the notification goes
        AmazonSNS sns = AmazonSNSClientBuilder.standard().withRegion(order.get("region")).build();
        sns.publish(order.get("topic"), "order " + order.get("id"));
        return order.get("id");
    }

    private void storeReceipt(Map<String, String> order) {
        AmazonS3 s3 = AmazonS3ClientBuilder.standard().withRegion(Regions.EU_WEST_1).build();
        s3.putObject(BUCKET, "receipts/" + order.get("id"), order.toString());
    }
}
