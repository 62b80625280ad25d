"""CloudWatch for moto, where moto falls short of what CloudWatch documents and a deploy controller asks:

- percentile statistics (`p99`, `p99.9`, `p50`...) in GetMetricData, computed from the raw values put
  (`Value`, or `Values` with `Counts`); a statistic set (`StatisticValues`) gives a percentile only when
  its SampleCount is 1 or its Minimum equals its Maximum, as CloudWatch documents
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles);
  a period with no such values has no datapoint;
- GetMetricData's metric queries answered in one pass over the time range (moto scans every datum again
  for every period, which a per-second metric over an hour turns into minutes).

    from moto_ext import cloudwatch
    cloudwatch.install()          # idempotent; under mock_aws and in moto's server alike
"""

from moto_ext.cloudwatch.statistics import install

__all__ = ["install"]
