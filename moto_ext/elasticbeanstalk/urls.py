"""Elastic Beanstalk's URLs, as moto's service modules declare them: the hosts it answers (moto's own
patterns) and the path every Query API action is posted to, answered by this package's responses."""

from moto.elasticbeanstalk.urls import url_bases

from .responses import BeanstalkResponse

__all__ = ["url_bases", "url_paths"]

url_paths = {
    "{0}/$": BeanstalkResponse.dispatch,
}
