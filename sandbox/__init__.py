"""The whole delivery pipeline on one machine, offline: emulated AWS (moto + Beanstalk) and friends."""
